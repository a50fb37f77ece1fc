/**
 * The README is the front door and docs/ holds a page per topic: every relative link in them must lead
 * to a file (or folder) in the repository, and the README stays short. Anchors are not checked.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ROOT, read } from './compose';

const README_MAX_BYTES = 20_480;

const docs = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);
const files = ['README.md', ...docs];

/** Link targets of inline Markdown links `[text](target)` and `[text](target "title")`, outside code. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const targets = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'));
}

describe('links in README.md and docs/*.md', () => {
  it('finds the pages and their links', () => {
    expect(docs.length).toBeGreaterThan(0);
    expect(relativeLinks(read('README.md')).length).toBeGreaterThan(0);
  });

  it.each(files)('every relative link in %s resolves to a file in the repository', (file) => {
    const missing = relativeLinks(read(file)).filter((target) => {
      const path = decodeURIComponent(target.split('#')[0]);
      const resolved = join(ROOT, dirname(file), path);
      return relative(ROOT, resolved).startsWith('..') || !existsSync(resolved);
    });
    expect(missing).toEqual([]);
  });

  it('README.md is under 20 KB', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThan(README_MAX_BYTES);
  });
});
