import {
  loopingTable,
  parseSince,
  runCli,
  tokenTable,
  windowReportLines,
  ExitCodes,
} from '../../src/cli/feedback';
import type { RedeliverWindowReport } from '../../src/ops/redeliver-window';
import { listedStage, listQuery } from '../../src/ops/operations';

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
      "WorkflowType = 'FeedbackWorkflow' AND MemberId = 42 AND ExecutionStatus IN ('Failed', 'Terminated', 'Canceled', 'TimedOut') AND FeedbackStage != 'expired' AND StartTime >= '2026-11-19T00:00:00.000Z'",
    );
  });

  it('lists a stage as the status view shows it: closed runs by how they ended, running ones by FeedbackStage', () => {
    // Runs since lean-history-v2 never upsert `delivered`: completed is delivered.
    expect(listQuery({ memberId: 42, stage: 'delivered' })).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND MemberId = 42 AND ExecutionStatus = 'Completed'",
    );
    expect(listQuery({ stage: 'expired' })).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Failed' AND FeedbackStage = 'expired'",
    );
    expect(listQuery({ stage: 'delivering' })).toBe(
      "WorkflowType = 'FeedbackWorkflow' AND ExecutionStatus = 'Running' AND FeedbackStage = 'delivering'",
    );
    expect(listedStage('COMPLETED', 'delivering')).toBe('delivered');
    expect(listedStage('COMPLETED', 'delivered')).toBe('delivered');
    expect(listedStage('FAILED', 'expired')).toBe('expired');
    expect(listedStage('FAILED', 'failed')).toBe('failed');
    expect(listedStage('TERMINATED', 'generating')).toBe('failed');
    expect(listedStage('RUNNING', 'generating')).toBe('generating');
    expect(listedStage('RUNNING', undefined)).toBeUndefined();
  });

  it('rejects what is not a member or a stage', () => {
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

  it('takes list --looping without a member, and refuses it with a stage, before connecting to Temporal', async () => {
    const withStage = io();
    expect(await runCli(['list', '--looping', '--stage', 'failed'], withStage.io)).toBe(ExitCodes.usage);
    expect(withStage.err.join('\n')).toMatch(/--looping lists failures; it takes no --stage/);

    const badSince = io();
    expect(await runCli(['list', '--looping', '--since', 'yesterday'], badSince.io)).toBe(ExitCodes.usage);

    const help = io();
    expect(await runCli(['list', '--help'], help.io)).toBe(ExitCodes.ok);
    expect(help.out.join('\n')).toMatch(/--looping/);
  });

  it('prints looping requests as a table: member, failures, holding, first, last, last request', () => {
    const lines = loopingTable([
      {
        memberId: 12345,
        signature: '12345-abc',
        failures: 11,
        holding: 1,
        firstStartedAt: '2026-12-08T11:00:00.000Z',
        lastStartedAt: '2026-12-09T09:00:00.000Z',
        lastRequestId: '12345-c0ffee00-0000-4000-8000-000000000001',
      },
      {
        memberId: 7,
        signature: '7-def',
        failures: 2,
        holding: 0,
        firstStartedAt: '2026-12-09T01:00:00.000Z',
        lastStartedAt: '2026-12-09T01:05:30.000Z',
        lastRequestId: '7-msg-2',
      },
    ]);
    expect(lines).toEqual([
      'member  failures  holding  first                     last                      last request',
      '12345         11        1  2026-12-08T11:00:00.000Z  2026-12-09T09:00:00.000Z  12345-c0ffee00-0000-4000-8000-000000000001',
      '7              2        0  2026-12-09T01:00:00.000Z  2026-12-09T01:05:30.000Z  7-msg-2',
    ]);
  });

  it('exits 2 on bad tokens arguments, before connecting to Temporal', async () => {
    const badSince = io();
    expect(await runCli(['tokens', '--since', 'last week'], badSince.io)).toBe(ExitCodes.usage);
    expect(badSince.err.join('\n')).toMatch(/--since.*7d, 24h, 30m or an ISO date-time/);

    for (const member of ['0', '-3', '1.5', 'x']) {
      const badMember = io();
      expect(await runCli(['tokens', '--member', member], badMember.io)).toBe(ExitCodes.usage);
      expect(badMember.err.join('\n')).toMatch(/--member.*must be a positive integer/);
    }

    const extra = io();
    expect(await runCli(['tokens', '42'], extra.io)).toBe(ExitCodes.usage);

    const help = io();
    expect(await runCli(['--help'], help.io)).toBe(ExitCodes.ok);
    expect(help.out.join('\n')).toMatch(/tokens/);
    const tokensHelp = io();
    expect(await runCli(['tokens', '--help'], tokensHelp.io)).toBe(ExitCodes.ok);
    expect(tokensHelp.out.join('\n')).toMatch(/--since <when>[\s\S]*--member <id>/);
  });

  it('prints the tokens table aligned, with a cost column only when priced', () => {
    const days = [
      { day: '2026-11-25', runs: 3, promptTokens: 1200, completionTokens: 340 },
      { day: '2026-11-26', runs: 12, promptTokens: 45000, completionTokens: 9000 },
    ];
    const total = { runs: 15, promptTokens: 46200, completionTokens: 9340 };
    expect(tokenTable({ days, total })).toEqual([
      'day         runs  prompt tokens  completion tokens',
      '2026-11-25     3           1200                340',
      '2026-11-26    12          45000               9000',
      'total         15          46200               9340',
    ]);
    expect(
      tokenTable({
        days: days.map((d) => ({ ...d, cost: 0.5 })),
        total: { ...total, cost: 1 },
        currency: 'USD',
      }),
    ).toEqual([
      'day         runs  prompt tokens  completion tokens  cost (USD)',
      '2026-11-25     3           1200                340      0.5000',
      '2026-11-26    12          45000               9000      0.5000',
      'total         15          46200               9340      1.0000',
    ]);
  });

  it('exits 2 naming the missing setting when a DLQ command has no DLQ configured', async () => {
    const { err, io: cliIo } = io();
    expect(await runCli(['dlq', 'list'], cliIo)).toBe(ExitCodes.usage);
    expect(err.join('\n')).toMatch(/AWS_SQS_FEEDBACK_DLQ_URL: required for this command/);
  });
});

describe('redeliver --since', () => {
  it('exits 2 for a requestId together with --since, --until alone, or neither, before connecting', async () => {
    for (const args of [
      ['redeliver', 'req-1', '--since', '24h'],
      ['redeliver', '--until', '1h'],
      ['redeliver'],
    ]) {
      const run = io();
      expect(await runCli(args, run.io)).toBe(ExitCodes.usage);
      expect(run.err.join('\n')).toMatch(/requestId or --since/);
    }
    const bad = io();
    expect(await runCli(['redeliver', '--since', 'yesterday'], bad.io)).toBe(ExitCodes.usage);
    expect(bad.err.join('\n')).toMatch(/7d, 24h/);
  });

  it('prints each result to send and each skipped one with its reason, then what was re-sent', () => {
    const report: RedeliverWindowReport = {
      since: '2025-06-17T00:00:00.000Z',
      until: '2025-06-18T00:00:00.000Z',
      timeZone: 'UTC',
      toSend: [
        {
          requestId: 'req-1',
          memberId: 1,
          closedAt: '2025-06-17T03:00:00.000Z',
          notAfter: '2025-06-23T00:00:00.000Z',
        },
      ],
      skipped: [
        {
          requestId: 'req-2',
          memberId: 2,
          reason: 'not-feedback',
          detail: 'its result was the status code "500"',
        },
      ],
      workflowIds: ['redeliver-window-1-1'],
      outcome: { delivered: ['req-1'], weekTurned: [], failed: [] },
    };
    expect(windowReportLines(report)).toEqual([
      "window 2025-06-17T00:00:00.000Z – 2025-06-18T00:00:00.000Z (the BE's week in UTC)",
      'send     req-1  member 1  closed 2025-06-17T03:00:00.000Z  not after 2025-06-23T00:00:00.000Z',
      'skipped  req-2  member 2  not-feedback: its result was the status code "500"',
      '1 to send, 1 skipped',
      're-sent 1 to the result queue (redeliver-window-1-1)',
    ]);
    expect(windowReportLines({ ...report, workflowIds: [], outcome: undefined }, { dryRun: true })).toContain(
      'dry run: nothing sent',
    );
  });
});
