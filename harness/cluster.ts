/**
 * The cluster engine for a chaos or benchmark run (`--temporal cluster`): PostgreSQL and a real Temporal
 * server (4 history shards, SQL visibility) as child processes of a ProcessGroup, through the command
 * lines of scripts/temporal-cluster.sh, then the namespace's search attributes by `feedback setup`'s code.
 * The dev server's counterpart is harness/infra.ts.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../src/config';
import { runSetup } from '../src/ops/setup';
import type { ManagedProcess, ProcessGroup } from './processes';
import { refuseTakenPorts } from './processes';
import { waitForTemporal } from './infra';
import { sleep } from './util';

const ROOT = join(__dirname, '..');
const SCRIPT = join(ROOT, 'scripts', 'temporal-cluster.sh');
const SYSTEM_PATH = '/usr/local/bin:/usr/bin:/bin';
const execFileAsync = promisify(execFile);

export type TemporalEngine = 'dev' | 'cluster';

/** `--temporal dev|cluster` from a command line; the dev server by default. */
export function temporalEngine(argv: string[]): TemporalEngine {
  const i = argv.indexOf('--temporal');
  const value = i >= 0 ? argv[i + 1] : 'dev';
  if (value !== 'dev' && value !== 'cluster')
    throw new Error(`--temporal must be dev or cluster (got ${String(value)})`);
  return value;
}

export interface TemporalClusterOptions {
  /** The frontend's port; the server also takes port + 1…5 (scripts/temporal-cluster.sh). */
  port: number;
  /** The first of the four membership ports (below 32768); default port + 10. */
  membershipPort?: number;
  pgPort: number;
  /** PostgreSQL's data goes to `<dataDir>/pg` (made empty first). */
  dataDir: string;
}

export interface TemporalCluster {
  postgres: ManagedProcess;
  temporal: ManagedProcess;
}

/** The ports the cluster's server and database take, by name, for refuseTakenPorts. */
export function clusterPorts(
  options: Pick<TemporalClusterOptions, 'port' | 'pgPort' | 'membershipPort'>,
): Record<string, number> {
  const ports: Record<string, number> = { postgres: options.pgPort };
  for (let i = 0; i <= 5; i++) ports[`temporal+${i}`] = options.port + i;
  const membership = options.membershipPort ?? options.port + 10;
  for (let i = 0; i <= 3; i++) ports[`temporal membership+${i}`] = membership + i;
  return ports;
}

/** Builds the server if needed, starts PostgreSQL, applies the schemas, starts the server, runs the setup. */
export async function startTemporalCluster(
  group: ProcessGroup,
  options: TemporalClusterOptions,
): Promise<TemporalCluster> {
  await refuseTakenPorts(clusterPorts(options));
  // Go and its caches come from the caller's environment.
  await execFileAsync('bash', [SCRIPT, 'build']);
  rmSync(join(options.dataDir, 'pg'), { recursive: true, force: true });
  const postgres = startPostgres(group, options);
  await waitForPostgres(options.pgPort, postgres);
  await execFileAsync('bash', [SCRIPT, 'schema', String(options.pgPort)], { env: { PATH: SYSTEM_PATH } });
  const temporal = group.start(
    'temporal',
    'bash',
    [
      SCRIPT,
      'run-server',
      String(options.port),
      String(options.pgPort),
      ...(options.membershipPort ? [String(options.membershipPort)] : []),
    ],
    { PATH: SYSTEM_PATH },
  );
  await waitForTemporal(`127.0.0.1:${options.port}`);
  const connection = await Connection.connect({ address: `127.0.0.1:${options.port}` });
  try {
    // The configuration's defaults (namespace, TEMPORAL_NAMESPACE_RETENTION), not the caller's settings.
    const { namespace, namespaceRetentionSeconds } = loadConfig({}).temporal;
    await runSetup(connection, { namespace, retentionSeconds: namespaceRetentionSeconds });
  } finally {
    await connection.close();
  }
  return { postgres, temporal };
}

/** PostgreSQL on its data directory (initdb on first use); `group.restart('postgres')` starts it again. */
function startPostgres(group: ProcessGroup, options: TemporalClusterOptions): ManagedProcess {
  return group.start(
    'postgres',
    'bash',
    [SCRIPT, 'run-postgres', join(options.dataDir, 'pg'), String(options.pgPort)],
    { PATH: SYSTEM_PATH },
  );
}

/** Resolves when PostgreSQL accepts connections; throws when its process exits first. */
export async function waitForPostgres(
  pgPort: number,
  postgres?: ManagedProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await execFileAsync('bash', [SCRIPT, 'pg-ready', String(pgPort)], {
      env: { PATH: SYSTEM_PATH },
    }).then(
      () => true,
      () => false,
    );
    if (ready) return;
    const child = postgres?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null))
      throw new Error(
        `PostgreSQL exited (code ${child.exitCode}, signal ${child.signalCode}) before it accepted connections`,
      );
    if (Date.now() > deadline) throw new Error(`PostgreSQL on ${pgPort} did not start in ${timeoutMs} ms`);
    await sleep(300);
  }
}
