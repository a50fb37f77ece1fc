/**
 * docs/configuration.md against the settings schemas (the product's and the development tools'):
 * every setting is listed, every listed one exists, and a default it states is the schema's.
 */
import { devEnvSchema } from '../../dev/config';
import { envSchema } from '../../src/config';
import { read } from './compose';

const rows = read('docs/configuration.md')
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => line.split('|').map((cell) => cell.trim()));

const shape = { ...envSchema.shape, ...devEnvSchema.shape } as Record<
  string,
  { safeParse(value: unknown): { data?: unknown } }
>;
const listed = new Set(rows.flatMap(([, names]) => [...names.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1])));

describe('docs/configuration.md', () => {
  it('lists every setting of the config schema and of the development tools', () => {
    expect(Object.keys(shape).filter((name) => !listed.has(name))).toEqual([]);
  });

  it('lists no setting that no schema reads', () => {
    expect([...listed].filter((name) => !(name in shape))).toEqual([]);
  });

  it("states each single setting's schema default as the schema has it", () => {
    const wrong = rows.flatMap(([, names, defaults]) => {
      const name = /^`([A-Z0-9_]+)`$/.exec(names)?.[1];
      const stated = /^`([^`]*)`$/.exec(defaults)?.[1];
      if (!name || stated === undefined || !(name in shape)) return [];
      const actual = shape[name].safeParse(undefined).data;
      // No schema default: loadConfig derives it (e.g. the LLM task queue from TEMPORAL_TASK_QUEUE).
      if (actual === undefined) return [];
      return String(actual) === stated ? [] : [`${name}: documented ${stated}, schema ${String(actual)}`];
    });
    expect(wrong).toEqual([]);
  });
});
