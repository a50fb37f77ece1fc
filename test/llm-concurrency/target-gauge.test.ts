/**
 * feedback_llm_vllm_waiting_target (worker, SDK meter): LLM_CONCURRENCY_TARGET_WAITING, which the
 * FeedbackVllmSaturated alert compares feedback_llm_vllm_waiting with.
 */
import type { LlmConcurrencySettings } from '../../src/config';
import { LlmConcurrencyControl } from '../../src/llm-concurrency/control';
import { recordingMeter } from '../support/recording-meter';

const settings: LlmConcurrencySettings = {
  mode: 'adaptive',
  min: 1,
  max: 128,
  initial: 16,
  targetWaiting: 7,
  intervalMs: 500,
  latencyTolerance: 1.5,
};
const logger = { info: jest.fn(), warn: jest.fn(), debug: jest.fn() };

it('sets the vLLM waiting target gauge to LLM_CONCURRENCY_TARGET_WAITING at start', () => {
  const { meter, recorded } = recordingMeter();
  new LlmConcurrencyControl(settings, { logger, meter });
  expect(recorded.filter((r) => r.name === 'feedback_llm_vllm_waiting_target')).toEqual([
    { kind: 'gauge', name: 'feedback_llm_vllm_waiting_target', value: 7, tags: {} },
  ]);
});
