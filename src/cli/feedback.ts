/**
 * The operator CLI: `npm run feedback -- <command>` (or `node dist/src/cli/feedback.js <command>`).
 * Reads the same configuration as the services. Exit codes: 0 done, 1 failed (e.g. Temporal or SQS
 * unreachable), 2 usage error, 3 not found, 4 refused (the request is not in a state that allows it).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Client } from '@temporalio/client';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type AppConfig } from '../config';
import { FEEDBACK_STAGES, type FeedbackStage } from '../domain/workflow';
import { listDlq, redriveDlq } from '../ops/dlq';
import { listFeedback, OperationError, redeliverFeedback, retryFeedback } from '../ops/operations';
import { listLoopingRequests, type LoopingRequest } from '../run/repeats';
import { lookupFeedbackStatus, type FeedbackStatusView } from '../run/status';
import { redeliverWindow, type RedeliverWindowReport } from '../ops/redeliver-window';
import { listTokenUsage, type TokenTotals } from '../ops/tokens';
import {
  cloudCommands,
  FEEDBACK_ATTRIBUTE_SPECS,
  isTemporalCloud,
  runSetup,
  SetupError,
  slotProblems,
} from '../ops/setup';
import { createSqsClient } from '../shared/sqs';
import { connectTemporalClient } from '../shared/temporal';

export const ExitCodes = { ok: 0, failed: 1, usage: 2, notFound: 3, refused: 4 } as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** `7d`, `24h`, `30m` before now, or an ISO date-time. */
export function parseSince(value: string, now = Date.now()): Date {
  const relative = /^(\d+)([dhm])$/.exec(value);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now - Number(relative[1]) * unit);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('use 7d, 24h, 30m or an ISO date-time');
  return date;
}

function printStatus(io: CliIo, view: FeedbackStatusView): void {
  const rows: Array<[string, string | number | undefined]> = [
    ['request', view.requestId],
    ['workflow', view.workflowId],
    ['stage', view.stage],
    ['holding until', view.holdUntil],
    ['temporal status', view.workflowStatus],
    ['member', view.memberId],
    ['generations', view.attempts.generations],
    [
      'in progress',
      view.attempts.current
        ? `${view.attempts.current.activity} (attempt ${view.attempts.current.attempt})`
        : undefined,
    ],
    ['last error', view.lastError],
    ['content', view.content],
    ['started', view.startedAt ?? view.acceptedAt],
    ['closed', view.closedAt],
    ['web UI', view.webUiUrl],
  ];
  for (const [label, value] of rows) if (value !== undefined) io.out(`${label.padEnd(16)} ${value}`);
}

/** The `tokens` table: a row per day, then the total; a cost column when prices are configured. */
export function tokenTable(totals: TokenTotals): string[] {
  const header = ['day', 'runs', 'prompt tokens', 'completion tokens'];
  if (totals.currency !== undefined) header.push(`cost (${totals.currency})`);
  const cells = [...totals.days, { day: 'total', ...totals.total }].map((row) => {
    const line = [row.day, String(row.runs), String(row.promptTokens), String(row.completionTokens)];
    if (totals.currency !== undefined) line.push((row.cost ?? 0).toFixed(4));
    return line;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((line) => line[i]?.length ?? 0)));
  // The day column is left-aligned, the numbers right-aligned.
  const format = (line: string[]) =>
    line.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [format(header), ...cells.map(format)];
}

interface RedeliverOptions {
  since?: Date;
  until?: Date;
  dryRun?: boolean;
  drainCheck: number;
  wait: boolean;
  json?: boolean;
}

/** What `redeliver --since` prints: each result to send, each skipped with why, then what happened. */
export function windowReportLines(
  report: RedeliverWindowReport,
  opts: { dryRun?: boolean; wait?: boolean } = {},
): string[] {
  const lines = [`window ${report.since} – ${report.until} (the BE's week in ${report.timeZone})`];
  for (const r of report.toSend)
    lines.push(
      `send     ${r.requestId}  member ${r.memberId}  closed ${r.closedAt}  not after ${r.notAfter}`,
    );
  for (const s of report.skipped)
    lines.push(`skipped  ${s.requestId}  member ${s.memberId}  ${s.reason}: ${s.detail}`);
  lines.push(`${report.toSend.length} to send, ${report.skipped.length} skipped`);
  if (opts.dryRun) lines.push('dry run: nothing sent');
  else if (report.workflowIds.length > 0 && !report.outcome)
    lines.push(
      `started ${report.workflowIds.join(', ')}: they send once the result queue has drained ` +
        '(feedback status shows nothing for them; see the Web UI)',
    );
  if (report.outcome) {
    const { delivered, weekTurned, failed } = report.outcome;
    lines.push(`re-sent ${delivered.length} to the result queue (${report.workflowIds.join(', ')})`);
    for (const id of weekTurned) lines.push(`not sent ${id}: the BE's week turned while the queue drained`);
    for (const f of failed) lines.push(`failed   ${f.requestId}: ${f.error}`);
  }
  return lines;
}

/**
 * The `list --looping` table: a row per request that failed for good more than once in the window,
 * most failures first (`holding`: of those, runs holding their code now).
 */
export function loopingTable(rows: readonly LoopingRequest[]): string[] {
  const header = ['member', 'failures', 'holding', 'first', 'last', 'last request'];
  const cells = rows.map((r) => [
    String(r.memberId),
    String(r.failures),
    String(r.holding),
    r.firstStartedAt,
    r.lastStartedAt,
    r.lastRequestId,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((line) => line[i]?.length ?? 0)));
  const numeric = new Set([1, 2]);
  const format = (line: string[]) =>
    line
      .map((cell, i) =>
        i === line.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]),
      )
      .join('  ');
  return [format(header), ...cells.map(format)];
}

export interface CliState {
  /** The exit code a command that completed sets (e.g. some DLQ messages not moved). */
  code: number;
  /** Closes the clients a command opened; run after it, whether it succeeded or not. */
  close?: () => Promise<void>;
}

export function buildCli(io: CliIo, state: CliState = { code: 0 }): Command {
  let config: AppConfig | undefined;
  let temporal: Client | undefined;
  let sqs: SQSClient | undefined;
  const getConfig = () => (config ??= loadConfig(io.env));
  const getTemporal = async () => (temporal ??= await connectTemporalClient(getConfig().temporal));
  const getSqs = () => (sqs ??= createSqsClient(getConfig().sqs));
  const queueUrl = (which: 'dlqUrl' | 'requestQueueUrl') => {
    const url = getConfig().sqs[which];
    const name = which === 'dlqUrl' ? 'AWS_SQS_FEEDBACK_DLQ_URL' : 'AWS_SQS_FEEDBACK_QUEUE_URL';
    if (!url) throw new ConfigError([`${name}: required for this command`]);
    return url;
  };
  const json = (value: unknown) => io.out(JSON.stringify(value, null, 2));
  /** A server that has just started may listen before its frontend serves: retry until it answers. */
  const waitForFrontend = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await (await getTemporal()).connection.workflowService.getSystemInfo({});
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await temporal?.connection.close().catch(() => undefined);
        temporal = undefined;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  const program = new Command('feedback')
    .description('Find, inspect and repair Leafresh feedback requests.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('status')
    .description('Where a request is: stage, attempts, last error, content, Web UI link.')
    .argument('<requestId>')
    .option('--json', 'print JSON')
    .action(async (requestId: string, opts: { json?: boolean }) => {
      const view = await lookupFeedbackStatus(await getTemporal(), requestId, {
        temporal: getConfig().temporal,
      });
      if (!view) throw new OperationError(`no run for ${requestId}`, 'not-found');
      if (opts.json) json(view);
      else printStatus(io, view);
    });

  program
    .command('list')
    .description(
      "A member's requests, newest first; with --looping, the requests of any member that failed for good more than once.",
    )
    .option('--member <id>', 'member id (required without --looping)', positiveInt)
    .option(
      '--looping',
      'requests (across members) that failed for good more than once since --since (default 24h)',
    )
    .addOption(new Option('--stage <stage>', 'only this stage').choices(FEEDBACK_STAGES))
    .option('--since <when>', 'started at or after: 7d, 24h, 30m or an ISO date-time', (v) => parseSince(v))
    .option('--limit <n>', 'at most this many', positiveInt, 50)
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          member?: number;
          looping?: boolean;
          stage?: FeedbackStage;
          since?: Date;
          limit: number;
          json?: boolean;
        },
        command: Command,
      ) => {
        if (opts.looping) {
          if (opts.stage) command.error('error: --looping lists failures; it takes no --stage');
          const rows = (
            await listLoopingRequests(await getTemporal(), {
              since: opts.since ?? parseSince('24h'),
              memberId: opts.member,
            })
          ).slice(0, opts.limit);
          if (opts.json) return json(rows);
          if (rows.length === 0) return io.out('no request failed more than once');
          for (const line of loopingTable(rows)) io.out(line);
          return;
        }
        if (opts.member === undefined) {
          command.error("error: required option '--member <id>' not specified (or use --looping)");
        }
        const runs = await listFeedback(await getTemporal(), getConfig().temporal, {
          memberId: opts.member,
          stage: opts.stage,
          since: opts.since,
          limit: opts.limit,
        });
        if (opts.json) return json(runs);
        if (runs.length === 0) return io.out('no requests found');
        io.out(`${'started'.padEnd(25)} ${'status'.padEnd(10)} ${'stage'.padEnd(11)} request`);
        for (const r of runs) {
          io.out(
            `${r.startedAt.padEnd(25)} ${r.workflowStatus.padEnd(10)} ${(r.stage ?? '-').padEnd(11)} ${r.requestId}`,
          );
        }
      },
    );

  program
    .command('tokens')
    .description('Prompt and completion tokens per day (Korea time), with their cost when priced.')
    .option('--since <when>', 'started at or after: 7d, 24h, 30m or an ISO date-time (default: 7d)', (v) =>
      parseSince(v),
    )
    .option('--member <id>', 'only this member', positiveInt)
    .option('--json', 'print JSON')
    .action(async (opts: { since?: Date; member?: number; json?: boolean }) => {
      const totals = await listTokenUsage(await getTemporal(), getConfig(), {
        since: opts.since ?? parseSince('7d'),
        memberId: opts.member,
      });
      if (opts.json) return json(totals);
      if (totals.days.length === 0) return io.out('no requests found');
      for (const line of tokenTable(totals)) io.out(line);
    });

  program
    .command('redeliver')
    .description(
      'Send the stored result of a closed request to the BE again (durably, with retries); with --since ' +
        'instead of a request, the safe results of a window the BE lost (docs/operations.md).',
    )
    .argument('[requestId]')
    .option(
      '--since <when>',
      "a window's results: closed at or after (7d, 24h, 30m or an ISO date-time)",
      (v) => parseSince(v),
    )
    .option('--until <when>', 'with --since: closed before this (default now)', (v) => parseSince(v))
    .option('--dry-run', 'with --since: only show what would be sent and what is skipped')
    .option(
      '--drain-check <seconds>',
      'with --since: seconds between reads of the result queue',
      positiveInt,
      30,
    )
    .option('--no-wait', 'start the redelivery and return')
    .option('--json', 'print JSON')
    .action(async (requestId: string | undefined, opts: RedeliverOptions, command: Command) => {
      if (opts.since !== undefined || opts.until !== undefined) {
        // command.error prints the message and ends with the usage exit code.
        if (requestId !== undefined || opts.since === undefined)
          command.error('error: give either a requestId or --since [--until]');
        const report = await redeliverWindow(await getTemporal(), getConfig(), {
          since: opts.since,
          until: opts.until,
          dryRun: opts.dryRun,
          wait: opts.wait,
          drainCheckSeconds: opts.drainCheck,
        });
        if (opts.json) return json(report);
        for (const line of windowReportLines(report, opts)) io.out(line);
        if ((report.outcome?.failed.length ?? 0) > 0) state.code = ExitCodes.failed;
        return;
      }
      if (requestId === undefined) command.error('error: give a requestId or --since [--until]');
      const report = await redeliverFeedback(await getTemporal(), getConfig(), requestId, {
        wait: opts.wait,
      });
      if (opts.json) return json(report);
      io.out(
        `${opts.wait ? 'redelivered' : 'redelivery started'}: ${report.requestId} → ${report.channels.join(' + ')} ` +
          `(content ${JSON.stringify(report.result.content.slice(0, 60))}, workflow ${report.workflowId})`,
      );
    });

  program
    .command('retry')
    .description('A new run for a failed request (same request, current configuration).')
    .argument('<requestId>')
    .option('--json', 'print JSON')
    .action(async (requestId: string, opts: { json?: boolean }) => {
      const report = await retryFeedback(await getTemporal(), getConfig(), requestId);
      if (opts.json) return json(report);
      io.out(`retried: ${report.requestId} new run ${report.runId} (previous ${report.previousRunId})`);
    });

  program
    .command('setup')
    .description(
      'Create the namespace (TEMPORAL_NAMESPACE_RETENTION) and the search attributes where missing; ' +
        'on Temporal Cloud, print the tcld commands.',
    )
    .option('--cloud', 'print the Temporal Cloud commands whatever the address')
    .option('--wait <seconds>', 'wait this long for the frontend to answer (a server starting)', positiveInt)
    .action(async (opts: { cloud?: boolean; wait?: number }) => {
      const { temporal: settings } = getConfig();
      const problems = slotProblems(FEEDBACK_ATTRIBUTE_SPECS);
      if (problems.length > 0) throw new SetupError(problems);
      if (opts.cloud || isTemporalCloud(settings.address)) {
        // Cloud's operator service does not create namespaces or search attributes: tcld / the Ops API does.
        for (const line of cloudCommands(
          settings.namespace,
          settings.namespaceRetentionSeconds,
          FEEDBACK_ATTRIBUTE_SPECS,
        ))
          io.out(line);
        return;
      }
      if (opts.wait !== undefined) await waitForFrontend(opts.wait * 1000);
      const report = await runSetup((await getTemporal()).connection, {
        namespace: settings.namespace,
        retentionSeconds: settings.namespaceRetentionSeconds,
      });
      io.out(
        report.namespaceCreated
          ? `namespace ${report.namespace} created (retention ${settings.namespaceRetentionSeconds / 3600}h)`
          : `namespace ${report.namespace} exists`,
      );
      for (const a of report.added) io.out(`search attribute ${a.name} (${a.type}) registered`);
      for (const a of report.present) io.out(`search attribute ${a.name} (${a.type}) exists`);
      io.out(`namespace ${report.namespace} ready`);
    });

  const dlq = program.command('dlq').description('The request queue’s dead-letter queue.');
  dlq
    .command('list')
    .description('What is in the DLQ and why (nothing is removed).')
    .option('--max <n>', 'at most this many', positiveInt, 100)
    .option('--json', 'print JSON')
    .action(async (opts: { max: number; json?: boolean }) => {
      const entries = await listDlq(getSqs(), queueUrl('dlqUrl'), opts.max);
      if (opts.json) return json(entries);
      if (entries.length === 0) return io.out('DLQ is empty');
      for (const e of entries) {
        io.out(`${e.messageId}  group=${e.groupId ?? '-'}  sent=${e.sentAt ?? '-'}`);
        io.out(`  reason: ${e.reason}`);
        io.out(`  body:   ${e.body}`);
      }
      io.out(`${entries.length} message(s)`);
    });
  dlq
    .command('redrive')
    .description('Move DLQ messages back to the request queue (after a fix).')
    .option('--max <n>', 'at most this many', positiveInt, 100)
    .option('--dry-run', 'show what would move')
    .option('--json', 'print JSON')
    .action(async (opts: { max: number; dryRun?: boolean; json?: boolean }) => {
      const report = await redriveDlq(
        getSqs(),
        { dlqUrl: queueUrl('dlqUrl'), requestQueueUrl: queueUrl('requestQueueUrl') },
        { max: opts.max, dryRun: opts.dryRun },
      );
      if (opts.json)
        return json({
          moved: report.moved,
          failed: report.failed.map(({ entry, error }) => ({ entry, error })),
        });
      for (const e of report.moved)
        io.out(`${opts.dryRun ? 'would move' : 'moved'} ${e.messageId} (${e.reason})`);
      for (const f of report.failed) io.err(`not moved ${f.entry.messageId}: ${f.error}`);
      io.out(
        `${report.moved.length} ${opts.dryRun ? 'would move' : 'moved'}, ${report.failed.length} failed`,
      );
      if (report.failed.length > 0) state.code = ExitCodes.failed;
    });

  state.close = async () => {
    await temporal?.connection.close();
    sqs?.destroy();
  };
  return program;
}

/** Runs the CLI and returns its exit code (never calls process.exit itself). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const state: CliState = { code: ExitCodes.ok };
  const program = buildCli(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; everything else is a usage error.
      return err.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
    }
    if (err instanceof OperationError) {
      io.err(`feedback: ${err.message}`);
      return err.code === 'not-found' ? ExitCodes.notFound : ExitCodes.refused;
    }
    if (err instanceof SetupError) {
      for (const problem of err.problems) io.err(`feedback setup: ${problem}`);
      return ExitCodes.refused;
    }
    if (err instanceof ConfigError) {
      io.err(`feedback: ${err.message}`);
      return ExitCodes.usage;
    }
    io.err(`feedback: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return ExitCodes.failed;
  } finally {
    await state.close?.().catch(() => undefined);
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}
