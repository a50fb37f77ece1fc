/**
 * `npm run chaos [-- --quick] [--n 1000] [--seed 7] [--delivery queue|both]`: the durability proof. Starts the real local
 * stack (Temporal dev server on a SQLite file, ElasticMQ behind a TCP proxy, the vLLM simulator, two
 * workers, two bridges, the API) and the BE double (dev/be-double) in place of the BE, sends N
 * requests through both entry points (HTTP API and the double publishing as the BE, with deliberate
 * duplicate sends and a few poison messages) while it kills and restarts processes and makes Temporal,
 * SQS, vLLM (3 % terminal 400s among its faults) and the callback misbehave. When week one has settled
 * (no FeedbackWorkflow running, the queues empty) the double's clock moves a week on and some members
 * send the identical body again. The verdict is the double's store: every member has exactly one real
 * feedback per week, none has a status code stored as feedback, none is left without; the BE could
 * process every result; every poison message is in the DLQ with its reason. Prints a table, writes JSON
 * under chaos/results/, exits 1 when anything was lost, doubled or wrong.
 *
 * The steps, in order: stack.ts (start it), faults.ts (schedule what goes wrong), load.ts (the two
 * weeks of requests), verdict.ts (judge the outcome), report.ts (table and JSON).
 */
import { createTimeline, startFaults } from './faults';
import { createLoad, sendWeekOne, sendWeekTwo, settle, startTicker } from './load';
import { buildReport, summaryTable, writeReport } from './report';
import { endInjectedFaults, freshProcessGroup, startStack, stopStack } from './stack';
import { mulberry32, ProgressBar } from '../harness/util';
import { parseArgs } from './options';
import { gatherEvidence, judge } from './verdict';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const options = parseArgs(args);
  const random = mulberry32(options.seed);
  const group = freshProcessGroup();
  cleanup = () => group.stopAll('SIGKILL');
  const timeline = createTimeline(Date.now());

  // Stack, then the fault schedule (its timers start now), then week one's traffic under it.
  const stack = await startStack(group, options, random);
  const faultRuns = startFaults(stack, options, random, timeline);
  const load = createLoad();
  const progress = new ProgressBar(options.n);
  const ticker = startTicker(stack.be, load, progress, timeline);
  const weekOne = await sendWeekOne(stack, options, load);
  await Promise.all(faultRuns);
  await endInjectedFaults(stack);
  timeline.note('traffic-and-faults-done');
  const weekOneSettled = await settle(stack, progress);
  timeline.note('week-one-settled', weekOneSettled ? undefined : 'limit reached');

  // Week two: a quarter of the members send the identical body a week later.
  const weekTwo = await sendWeekTwo(stack, load, progress, timeline);
  const weekTwoSettled = await settle(stack, progress);
  clearInterval(ticker);
  progress.render(stack.be.feedbacks().length, 'settled');
  progress.finish();

  const evidence = await gatherEvidence(stack);
  const judgement = judge(
    stack.be,
    {
      expected: [...load.expected.values()],
      weekOne,
      poison: load.poison,
      settled: { weekOne: weekOneSettled, weekTwo: weekTwoSettled },
    },
    evidence,
    timeline,
  );
  const report = buildReport({
    args,
    options,
    load,
    weeks: { weekOne, weekTwo },
    judgement,
    evidence,
    timeline,
    be: stack.be,
  });
  process.stdout.write('\n' + summaryTable(report, judgement) + '\n');
  process.stdout.write(`report: ${writeReport(report)}\n`);

  await stopStack(stack);
  process.exitCode = judgement.failed ? 1 : 0;
}

let cleanup: () => Promise<void> = async () => undefined;

main().catch(async (err: unknown) => {
  process.stderr.write(`chaos run failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await cleanup();
  process.exit(2);
});
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
