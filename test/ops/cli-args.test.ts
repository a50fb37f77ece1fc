import { parseSince, runCli, ExitCodes } from '../../src/cli/feedback';
import { listQuery } from '../../src/ops/operations';

const io = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} } };
};

describe('operator CLI arguments', () => {
  it('parses --since as a relative age or an ISO date-time', () => {
    const now = Date.parse('2026-11-26T00:00:00Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-11-19T00:00:00.000Z');
    expect(parseSince('24h', now).toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(parseSince('30m', now).toISOString()).toBe('2026-11-25T23:30:00.000Z');
    expect(parseSince('2026-11-01T00:00:00Z').toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => parseSince('last week')).toThrow(/7d/);
  });

  it('builds the visibility query for a member, a stage and a start time', () => {
    expect(listQuery({ memberId: 42 })).toBe("WorkflowType = 'FeedbackWorkflow' AND MemberId = 42");
    expect(listQuery({ memberId: 42, stage: 'failed', since: new Date('2026-11-19T00:00:00Z') })).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND MemberId = 42 AND FeedbackStage = 'failed' AND StartTime >= '2026-11-19T00:00:00.000Z'",
    );
    expect(() => listQuery({ memberId: 0 })).toThrow(/positive/);
    expect(() => listQuery({ memberId: 1, stage: "failed' OR 1=1" as never })).toThrow(
      /stage must be one of/,
    );
  });

  it('exits 2 on usage errors, naming the problem, and 0 for --help', async () => {
    const missing = io();
    expect(await runCli(['list'], missing.io)).toBe(ExitCodes.usage);
    expect(missing.err.join('\n')).toMatch(/--member/);

    const badStage = io();
    expect(await runCli(['list', '--member', '4', '--stage', 'lost'], badStage.io)).toBe(ExitCodes.usage);
    expect(badStage.err.join('\n')).toMatch(/Allowed choices are queued, generating/);

    const badMember = io();
    expect(await runCli(['list', '--member', 'x'], badMember.io)).toBe(ExitCodes.usage);

    const unknown = io();
    expect(await runCli(['explode'], unknown.io)).toBe(ExitCodes.usage);

    const help = io();
    expect(await runCli(['--help'], help.io)).toBe(ExitCodes.ok);
    expect(help.out.join('\n')).toMatch(/dlq/);
  });

  it('exits 2 naming the missing setting when a DLQ command has no DLQ configured', async () => {
    const { err, io: cliIo } = io();
    expect(await runCli(['dlq', 'list'], cliIo)).toBe(ExitCodes.usage);
    expect(err.join('\n')).toMatch(/AWS_SQS_FEEDBACK_DLQ_URL: required for this command/);
  });
});
