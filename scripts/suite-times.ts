/**
 * Writes the suites table of docs/testing.md from the last runs' jest results: every test file, its
 * tier and its measured wall time. `npm test` writes .data/test/jest-results.json and
 * `npm run test:slow` .data/test-slow/jest-results.json; run both, then:
 *
 *   npx tsx scripts/suite-times.ts
 *
 * A suite missing from the results (not run, or filtered out) keeps the time the table had.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';

const ROOT = join(__dirname, '..');
const DOC = join(ROOT, 'docs', 'testing.md');
const BEGIN = '<!-- suites:begin -->';
const END = '<!-- suites:end -->';

interface JestResults {
  startTime: number;
  testResults: Array<{ name: string; startTime: number; endTime: number }>;
}

/** `test/…` of a result's absolute path, also for results of another clone (e.g. CI's). */
const suitePath = (name: string) => name.slice(name.lastIndexOf('/test/') + 1);

function measured(profile: string): Map<string, number> {
  const file = join(ROOT, '.data', profile, 'jest-results.json');
  if (!existsSync(file)) return new Map();
  const results = JSON.parse(readFileSync(file, 'utf8')) as JestResults;
  return new Map(results.testResults.map((r) => [suitePath(r.name), (r.endTime - r.startTime) / 1000]));
}

/** The table's current rows: suite → its time cell. */
function previous(doc: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\|\s*`([^`]+)`\s*\|\s*\w+\s*\|\s*([^|]*?)\s*\|$/gm)) rows.set(m[1], m[2]);
  return rows;
}

async function main(): Promise<void> {
  const doc = readFileSync(DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${DOC} has no ${BEGIN} … ${END} block`);
  const times = new Map([...measured('test'), ...measured('test-slow')]);
  const before = previous(doc);
  const suites = [...new Set([...times.keys(), ...before.keys()])]
    .filter((suite) => existsSync(join(ROOT, suite)))
    .sort();
  const rows = suites.map((suite) => {
    const tier = suite.endsWith('.slow.test.ts') ? 'slow' : 'fast';
    const seconds = times.get(suite);
    const time = seconds === undefined ? (before.get(suite) ?? '?') : `${seconds.toFixed(1)} s`;
    return `| \`${suite}\` | ${tier} | ${time} |`;
  });
  const table = ['| suite | tier | wall time |', '| --- | --- | --- |', ...rows].join('\n');
  const text = `${doc.slice(0, begin + BEGIN.length)}\n\n${table}\n\n${doc.slice(end)}`;
  writeFileSync(DOC, await format(text, { ...(await resolveConfig(DOC)), filepath: DOC }));
  process.stdout.write(`docs/testing.md: ${rows.length} suites (${times.size} measured in the last runs)\n`);
}

void main();
