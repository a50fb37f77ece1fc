/**
 * feedback_llm_vllm_waiting_target (worker, SDK meter): LLM_TARGET_WAITING, which the
 * FeedbackVllmSaturated alert compares feedback_llm_vllm_waiting with.
 */
import type { FlowSettings } from '../../src/config';
import { LlmFlowControl } from '../../src/llm-concurrency/flow-control';
import { recordingMeter } from '../support/recording-meter';

const settings: FlowSettings = {
  taskQueue: 'feedback-llm',
  mode: 'adaptive',
  min: 1,
  max: 128,
  initial: 16,
  targetWaiting: 7,
  intervalMs: 500,
  latencyTolerance: 1.5,
  priority: { api: 1, queue: 3, fairness: true },
};
const logger = { info: jest.fn(), warn: jest.fn(), debug: jest.fn() };

it('sets the vLLM waiting target gauge to LLM_TARGET_WAITING at start', () => {
  const { meter, recorded } = recordingMeter();
  new LlmFlowControl(settings, { logger, meter });
  expect(recorded.filter((r) => r.name === 'feedback_llm_vllm_waiting_target')).toEqual([
    { kind: 'gauge', name: 'feedback_llm_vllm_waiting_target', value: 7, tags: {} },
  ]);
});
