/**
 * The Dockerfile and .dockerignore checked without a Docker engine: multi-stage, builds with the
 * package.json build script, small non-root Node 20 runtime holding what the start scripts run, a
 * build context that lets in only the build inputs, and hadolint without errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envSchema } from '../../src/config';
import { execForm, hadolint, parseDockerfile, read } from './compose';

const instructions = parseDockerfile(read('Dockerfile'));
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const lastStage = Math.max(...instructions.map((i) => i.stage));
const runtime = instructions.filter((i) => i.stage === lastStage);

describe('Dockerfile', () => {
  it('is multi-stage on pinned Node 20 images', () => {
    const froms = instructions.filter((i) => i.instruction === 'FROM').map((i) => i.args.split(/\s+/)[0]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^node:20\.\d+\.\d+-[a-z]+-slim$/);
  });

  it('builds TypeScript and the workflow bundle once, with the package.json build script', () => {
    const builds = instructions.filter((i) => i.instruction === 'RUN' && /\bnpm run build\b/.test(i.args));
    expect(builds).toHaveLength(1);
    expect(builds[0].stage).toBeLessThan(lastStage);
    // The script that step runs writes dist/ and dist/workflow-bundle{,-tracing}.js.
    expect(scripts.build).toBe('tsc -p tsconfig.build.json && node dist/src/worker/build-workflow-bundle.js');
    const buildStageCopies = instructions
      .filter((i) => i.stage === builds[0].stage && i.instruction === 'COPY')
      .map((i) => i.args);
    expect(buildStageCopies).toEqual(
      expect.arrayContaining([
        'tsconfig.json tsconfig.build.json ./',
        'src ./src',
        'dev ./dev',
        'scripts ./scripts',
      ]),
    );
  });

  it('ships only production dependencies and the built output to the runtime stage', () => {
    const copies = runtime.filter((i) => i.instruction === 'COPY').map((i) => i.args);
    expect(copies).toEqual(
      expect.arrayContaining([
        '--from=prod-deps /app/node_modules ./node_modules',
        '--from=build /app/dist/src ./dist/src',
        '--from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js',
        '--from=build /app/dist/workflow-bundle-tracing.js ./dist/workflow-bundle-tracing.js',
      ]),
    );
    const prodDeps = instructions.filter(
      (i) => i.instruction === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args),
    );
    expect(prodDeps).toHaveLength(1);
    expect(runtime.some((i) => i.instruction === 'RUN')).toBe(false);
  });

  it('keeps the development tools out of the product image, in their own dev-tools target', () => {
    const copies = runtime.filter((i) => i.instruction === 'COPY').map((i) => i.args);
    expect(copies.filter((c) => /dist\/dev\b/.test(c))).toEqual([]);
    const from = instructions.find((i) => i.instruction === 'FROM' && /\bAS dev-tools$/i.test(i.args));
    expect(from).toBeDefined();
    const devTools = instructions.filter((i) => i.stage === from?.stage);
    expect(devTools.map((i) => i.args)).toContain('--from=build /app/dist/dev ./dist/dev');
    const cmd = devTools.find((i) => i.instruction === 'CMD');
    expect(execForm(cmd?.args ?? '[]').join(' ')).toBe(scripts['start:vllm-sim']);
  });

  it('runs as a non-root user', () => {
    const users = runtime.filter((i) => i.instruction === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('starts by default with the command of a package.json start script (compose picks the role)', () => {
    const cmd = runtime.find((i) => i.instruction === 'CMD');
    expect(cmd).toBeDefined();
    const starts = Object.entries(scripts)
      .filter(([name]) => name.startsWith('start:'))
      .map(([, script]) => script);
    expect(starts).toContain(execForm(cmd?.args ?? '[]').join(' '));
  });

  it('reads no setting through ENV that the config schema would own', () => {
    const envNames = runtime
      .filter((i) => i.instruction === 'ENV')
      .flatMap((i) => i.args.split(/\s+/).map((kv) => kv.split('=')[0]));
    expect(envNames.filter((n) => n in envSchema.shape)).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const rules = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('keeps everything out of the build context except what the Dockerfile copies', () => {
    expect(rules[0]).toBe('*');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1));
    const sources = instructions
      .filter((i) => i.instruction === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      const covered = allowed.some(
        (a) =>
          a === source || (a.endsWith('/*.ts') && a.slice(0, -5) === source) || source.startsWith(`${a}/`),
      );
      expect({ source, covered }).toEqual({ source, covered: true });
    }
    // Secrets and local state never enter the context.
    for (const path of ['.env', '.env.compose.example', 'node_modules', 'dist', '.tools', '.data', '.git']) {
      expect(allowed).not.toContain(path);
    }
  });
});

describe('hadolint on the Dockerfile', () => {
  it('reports no errors', () => {
    const errors = hadolint('Dockerfile').filter((f) => f.level === 'error');
    expect(errors).toEqual([]);
  });

  it('does report errors on a bad Dockerfile (negative check)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hadolint-'));
    try {
      const bad = join(dir, 'Dockerfile');
      writeFileSync(bad, 'FROM node:latest\nWORKDIR app\nRUN sudo npm ci\nCMD node main.js\n');
      const codes = hadolint(bad)
        .filter((f) => f.level === 'error')
        .map((f) => f.code);
      expect(codes).toEqual(expect.arrayContaining(['DL3000', 'DL3004']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
