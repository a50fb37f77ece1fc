/**
 * Dependency hygiene: every direct dependency pinned to an exact version, the lockfile in sync with
 * package.json, and nothing in the lockfile that npm marks as deprecated (npm records the registry's
 * deprecation message in package-lock.json when it resolves a package).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, { version?: string; deprecated?: string; dev?: boolean }>;
};

describe('dependencies', () => {
  const direct = { ...pkg.dependencies, ...pkg.devDependencies };

  it('are pinned to exact versions, and the lockfile resolves each to that version', () => {
    for (const [name, range] of Object.entries(direct)) {
      expect({ name, range, exact: /^\d+\.\d+\.\d+$/.test(range) }).toEqual({ name, range, exact: true });
      expect({ name, locked: lock.packages[`node_modules/${name}`]?.version }).toEqual({
        name,
        locked: range,
      });
    }
  });

  it('include nothing npm reports as deprecated', () => {
    const deprecated = Object.entries(lock.packages)
      .filter(([, p]) => p.deprecated !== undefined)
      .map(([path, p]) => `${path}: ${p.deprecated}`);
    expect(deprecated).toEqual([]);
  });
});
