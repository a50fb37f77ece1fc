/**
 * Replay safety: every recorded FeedbackWorkflow history in test/histories/ must replay against the
 * current workflow code. A failure here means a change to workflow code would break runs that are
 * in flight when it is deployed; see docs/workflow-changes.md. Histories are recorded with
 * `npx tsx scripts/record-histories.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { HistoryAndWorkflowId } from '@temporalio/common';
import {
  bundleWorkflowCode,
  Worker,
  type ReplayResult,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { parseHistory } from '../../scripts/record-histories';
import { workflowBundle } from '../support/temporal';

const HISTORIES_DIR = join(__dirname, '..', 'histories');
const RECORDED_SCENARIOS = [
  'success',
  'vllm-retries',
  'guardrail-regeneration',
  'terminal-failure',
  'repeated-failure',
  'delivery-rejected',
  'expired',
];

interface RecordedHistory extends HistoryAndWorkflowId {
  file: string;
}

function historyFiles(): string[] {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/**
 * Parsed here rather than by the replayer: Worker.runReplayHistories would pass JSON to the SDK's
 * historyFromJSON, which fails in this install (see parseHistory in scripts/record-histories.ts).
 */
function loadHistories(): RecordedHistory[] {
  return historyFiles().map((file) => {
    const json = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as unknown;
    return { file, workflowId: workflowIdOf(json, file), history: parseHistory(json) };
  });
}

/**
 * Histories do not carry the workflow id; the workflow uses it (as the delivery idempotency key), so
 * replay with the one the run had: `feedback-<requestId>` from the recorded input.
 */
function workflowIdOf(json: unknown, file: string): string {
  const started = (json as { events?: { workflowExecutionStartedEventAttributes?: StartedAttributes }[] })
    .events?.[0]?.workflowExecutionStartedEventAttributes;
  const data = started?.input?.payloads?.[0]?.data;
  const requestId = data
    ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { requestId?: unknown }).requestId
    : undefined;
  return typeof requestId === 'string' ? `feedback-${requestId}` : `feedback-${basename(file, '.json')}`;
}

interface StartedAttributes {
  input?: { payloads?: { data?: string }[] };
}

async function replay(
  bundle: WorkflowBundleWithSourceMap,
  histories: RecordedHistory[],
): Promise<{ file: string; error?: ReplayResult['error'] }[]> {
  const results: { file: string; error?: ReplayResult['error'] }[] = [];
  // One replay worker for all histories; results come back in the order the histories go in.
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
    results.push({ file: histories[results.length].file, error: result.error });
  }
  return results;
}

const quiet = () => undefined;
const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** A deliberately changed workflows file from ./fixtures, bundled once per test file. */
function fixtureBundle(name: string): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(name);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: require.resolve(`./fixtures/${name}`),
      logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, log: quiet },
    });
    bundles.set(name, bundle);
  }
  return bundle;
}

describe('FeedbackWorkflow replay', () => {
  it('has a recorded history for every representative scenario', () => {
    // <scenario>.json, or <scenario>--<change-id>.json once the untagged one was retired.
    const scenarios = new Set(historyFiles().map((f) => basename(f, '.json').split('--')[0]));
    expect([...scenarios]).toEqual(expect.arrayContaining(RECORDED_SCENARIOS));
  });

  it('records one stage upsert per change, none for `delivered`, and the failure hold as a timer', () => {
    const events = (scenario: string) =>
      parseHistory(JSON.parse(readFileSync(join(HISTORIES_DIR, `${scenario}.json`), 'utf8'))).events ?? [];
    const upserts = (scenario: string) =>
      events(scenario).flatMap((e) => {
        const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
        return Object.keys(fields)
          .filter((name) => name === 'FeedbackStage' || name === 'TemporalChangeVersion')
          .map((name) => `${name}=${Buffer.from(fields[name].data ?? []).toString()}`);
      });
    const timers = (scenario: string) => events(scenario).filter((e) => e.timerStartedEventAttributes).length;
    expect(upserts('success')).toEqual(['FeedbackStage="generating"', 'FeedbackStage="delivering"']);
    // Two generations, one `generating` upsert.
    expect(upserts('guardrail-regeneration')).toEqual(upserts('success'));
    expect(upserts('terminal-failure')).toEqual([
      'FeedbackStage="generating"',
      'FeedbackStage="holding"',
      'FeedbackStage="delivering"',
      'FeedbackStage="failed"',
    ]);
    expect(upserts('expired')).toEqual([
      'FeedbackStage="holding"',
      'FeedbackStage="delivering"',
      'FeedbackStage="expired"',
    ]);
    expect(timers('terminal-failure')).toBe(1);
    expect(timers('expired')).toBe(1);
    expect(timers('success')).toBe(0);
    // A queue request's failure counts the request's earlier failures before its hold; nothing else does.
    const activities = (scenario: string) =>
      events(scenario).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(activities('terminal-failure')).toEqual([
      'generateCheckedFeedback',
      'countEarlierFailures',
      'deliverResult',
    ]);
    expect(activities('repeated-failure')).toEqual(activities('terminal-failure'));
    expect(upserts('repeated-failure')).toEqual(upserts('terminal-failure'));
    expect(timers('repeated-failure')).toBe(1);
    expect(activities('success')).toEqual(['generateCheckedFeedback', 'deliverResult']);
  });

  it('replays every recorded history against the current workflow code', async () => {
    const histories = loadHistories();
    const results = await replay(await workflowBundle(), histories);
    expect(results).toEqual(histories.map(({ file }) => ({ file, error: undefined })));
  }, 120_000);

  it('fails when a step is added without patched() (the check can fail)', async () => {
    const histories = loadHistories();
    const results = await replay(await fixtureBundle('nondeterministic-workflows'), histories);
    expect(results).toHaveLength(histories.length);
    for (const { file, error } of results) {
      expect({ file, error }).toEqual({ file, error: expect.any(DeterminismViolationError) });
      expect(error?.message).toMatch(/Nondeterminism error/);
    }
  }, 120_000);

  it('replays when the same step is guarded by patched()', async () => {
    const histories = loadHistories();
    const results = await replay(await fixtureBundle('patched-workflows'), histories);
    expect(results).toEqual(histories.map(({ file }) => ({ file, error: undefined })));
  }, 120_000);
});
