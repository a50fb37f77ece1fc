/**
 * docs/production.md is copied from by operators: its JSON must parse, and its IAM policies must allow
 * every SQS call the processes' code makes.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, read } from './compose';

const doc = read('docs/production.md');
const jsonBlocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const statements: Statement[] = jsonBlocks
  .map((text) => JSON.parse(text) as { Statement?: Statement[] })
  .flatMap((policy) => policy.Statement ?? []);

/** Actions a process's policy allows, by statement ids. */
function allowed(sids: string[]): string[] {
  return statements
    .filter((s) => sids.includes(s.Sid) && s.Effect === 'Allow')
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

/** IAM actions for the SQS commands the code in these directories or files sends (batch calls use the single action). */
function sqsActionsIn(...paths: string[]): string[] {
  const actions = new Set<string>();
  const files = paths.flatMap((path) =>
    path.endsWith('.ts')
      ? [path]
      : readdirSync(join(ROOT, path))
          .filter((f) => f.endsWith('.ts'))
          .map((f) => join(path, f)),
  );
  for (const file of files) {
    for (const m of read(file).matchAll(/new (\w+)Command\(/g)) {
      actions.add(`sqs:${m[1].replace(/Batch$/, '')}`);
    }
  }
  return [...actions].sort();
}

describe('docs/production.md', () => {
  it('has JSON examples that parse, four of them IAM policies', () => {
    expect(jsonBlocks.length).toBeGreaterThanOrEqual(4);
    expect(new Set(statements.map((s) => s.Sid)).size).toBe(statements.length);
  });

  it.each([
    // src/shared/health.ts: the queue check of each process's /ready.
    ['api', ['SendFeedbackRequests'], ['src/api', 'src/shared/health.ts']],
    [
      'sqs-bridge',
      ['ConsumeFeedbackRequests', 'DeadLetterInvalidRequests'],
      ['src/sqs-bridge', 'src/shared/health.ts'],
    ],
    ['worker', ['PublishFeedbackResults'], ['src/activities', 'src/worker', 'src/shared/health.ts']],
  ])('grants the %s every SQS action its code calls', (_name, sids, dirs) => {
    const calls = sqsActionsIn(...dirs);
    expect(calls.length).toBeGreaterThan(0);
    expect(allowed(sids)).toEqual(expect.arrayContaining(calls));
  });

  it('scopes every statement to the feedback queues, never to a wildcard', () => {
    for (const s of statements) {
      for (const resource of Array.isArray(s.Resource) ? s.Resource : [s.Resource]) {
        expect({ sid: s.Sid, resource }).toEqual({
          sid: s.Sid,
          resource: expect.stringMatching(
            /^arn:aws:sqs:[a-z0-9-]+:\d{12}:leafresh-sqs-feedback(-dlq|-result)?\.fifo$/,
          ),
        });
      }
    }
  });
});
