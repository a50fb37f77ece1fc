/**
 * The time budget holds only if every suite is placed: docs/testing.md lists each test file with the
 * tier its name gives (`*.slow.test.ts`: slow) and its measured wall time, and the jest configurations
 * of the two tiers split the files the same way.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, read } from './compose';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [relative(ROOT, path)] : [];
  });
}

const files = testFiles(join(ROOT, 'test')).sort();

/** The suites table between the markers: suite → tier and time. */
function suitesTable(): Map<string, { tier: string; time: string }> {
  const doc = read('docs/testing.md');
  const block = doc.slice(doc.indexOf('<!-- suites:begin -->'), doc.indexOf('<!-- suites:end -->'));
  const rows = new Map<string, { tier: string; time: string }>();
  for (const m of block.matchAll(/^\|\s*`([^`]+)`\s*\|\s*(\w+)\s*\|\s*([^|]*?)\s*\|$/gm))
    rows.set(m[1], { tier: m[2], time: m[3] });
  return rows;
}

const tierOf = (file: string) => (file.endsWith('.slow.test.ts') ? 'slow' : 'fast');

describe('docs/testing.md suites table', () => {
  const table = suitesTable();

  it('lists every test file, and only those', () => {
    expect(files.length).toBeGreaterThan(50);
    expect([...table.keys()].sort()).toEqual(files);
  });

  it.each(files)('%s: its tier by its name and a measured wall time', (file) => {
    expect(table.get(file)).toEqual({ tier: tierOf(file), time: expect.stringMatching(/^\d+(\.\d)? s$/) });
  });
});

describe('jest configurations of the two tiers', () => {
  /* eslint-disable @typescript-eslint/no-require-imports -- the CommonJS config files jest reads */
  const fast = require(join(ROOT, 'jest.config.js')) as { testPathIgnorePatterns: string[] };
  const slow = require(join(ROOT, 'jest.slow.config.js')) as { testMatch: string[] };
  /* eslint-enable @typescript-eslint/no-require-imports */

  it('the fast tier ignores exactly the slow files, the slow tier matches only them', () => {
    const ignored = (file: string) => fast.testPathIgnorePatterns.some((p) => new RegExp(p).test(`/${file}`));
    expect(files.filter(ignored)).toEqual(files.filter((f) => tierOf(f) === 'slow'));
    expect(slow.testMatch).toEqual(['**/*.slow.test.ts']);
    expect(files.filter((f) => tierOf(f) === 'slow').length).toBeGreaterThan(0);
  });
});
