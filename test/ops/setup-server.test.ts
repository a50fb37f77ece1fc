/**
 * `feedback setup` against a real `temporal server start-dev` of its own (random ports in 32000–32767,
 * checked free first: below Linux's ephemeral range, where a client connection may hold any port, and
 * none of the project's stack ports), started without search attributes: the first run creates the
 * namespace and the attributes, the second changes nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { refuseTakenPorts } from '../../harness/processes';
import { TEMPORAL_BIN, waitForTemporal } from '../../harness/infra';
import { runCli } from '../../src/cli/feedback';
import { FEEDBACK_ATTRIBUTE_SPECS } from '../../src/ops/setup';

function randomPorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(32000 + Math.floor(Math.random() * 768));
  return [...ports];
}

describe('feedback setup on a dev server', () => {
  let server: ChildProcess | undefined;
  let home: string;
  let port: number;
  const namespace = 'leafresh-setup-test';

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'setup-server-'));
    const [frontend, http, ui, metrics] = randomPorts(4);
    port = frontend;
    await refuseTakenPorts({ frontend, http, ui, metrics });
    server = spawn(
      TEMPORAL_BIN,
      [
        'server',
        'start-dev',
        '--ip=127.0.0.1',
        `--port=${frontend}`,
        `--http-port=${http}`,
        `--ui-port=${ui}`,
        `--metrics-port=${metrics}`,
        '--headless',
        `--db-filename=${join(home, 'temporal.db')}`,
        '--log-level=error',
      ],
      { env: { HOME: home, PATH: process.env.PATH }, stdio: 'ignore' },
    );
    await waitForTemporal(`127.0.0.1:${frontend}`, 60_000);
  }, 90_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
  });

  const setup = async () => {
    const out: string[] = [];
    const err: string[] = [];
    const env = {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_NAMESPACE_RETENTION: '96h',
    };
    const code = await runCli(['setup'], { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out, err };
  };

  it('creates the namespace and the attributes, then changes nothing', async () => {
    const first = await setup();
    expect(first).toMatchObject({ code: 0, err: [] });
    expect(first.out).toContain(`namespace ${namespace} created (retention 96h)`);
    for (const a of FEEDBACK_ATTRIBUTE_SPECS)
      expect(first.out).toContain(`search attribute ${a.name} (${a.type}) registered`);

    const second = await setup();
    expect(second).toMatchObject({ code: 0, err: [] });
    expect(second.out).toContain(`namespace ${namespace} exists`);
    expect(second.out.filter((l) => l.endsWith('registered'))).toEqual([]);
    for (const a of FEEDBACK_ATTRIBUTE_SPECS)
      expect(second.out).toContain(`search attribute ${a.name} (${a.type}) exists`);

    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      expect(Object.keys(listed.customAttributes ?? {}).sort()).toEqual(
        FEEDBACK_ATTRIBUTE_SPECS.map((a) => a.name).sort(),
      );
      const described = await connection.workflowService.describeNamespace({ namespace });
      expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(96 * 3600);
    } finally {
      await connection.close();
    }
  });
});
