/** Starts, kills, restarts and watches the OS processes of a chaos or benchmark run; logs go to files. */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

export interface ManagedProcess {
  name: string;
  child?: ChildProcess;
  starts: number;
}

export class ProcessGroup {
  private readonly processes = new Map<
    string,
    ManagedProcess & { command: string; args: string[]; env: NodeJS.ProcessEnv }
  >();

  constructor(private readonly logDir: string) {}

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
    const entry = this.processes.get(name) ?? { name, command, args, env, starts: 0 };
    this.processes.set(name, entry);
    entry.starts++;
    const logFile = join(this.logDir, `${name}.log`);
    appendFileSync(logFile, `--- start #${entry.starts} at ${new Date().toISOString()}\n`);
    // The child writes its output to the file itself: piped through this process, every log line of a
    // process under test would cost the harness (the benchmark's load generator) CPU while it measures.
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    child.on('exit', (code, signal) => appendFileSync(logFile, `--- exit code=${code} signal=${signal}\n`));
    entry.child = child;
    return entry;
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    const child = this.processes.get(name)?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** What the process has logged since its latest start (the log file keeps every start's). */
  logSinceStart(name: string): string {
    const entry = this.processes.get(name);
    if (!entry) throw new Error(`unknown process ${name}`);
    const text = readFileSync(join(this.logDir, `${name}.log`), 'utf8');
    return text.slice(text.lastIndexOf(`--- start #${entry.starts} at `));
  }

  restart(name: string): ManagedProcess {
    const entry = this.processes.get(name);
    if (!entry) throw new Error(`unknown process ${name}`);
    return this.start(name, entry.command, entry.args, entry.env);
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.all([...this.processes.keys()].map((name) => this.stop(name, signal)));
  }
}

/**
 * Resolves when `url` answers 2xx. Throws when the time is up, or at once when `failure` names a
 * reason the server will never answer (it exited, it could not bind its port).
 */
export async function waitForHttp(
  url: string,
  timeoutMs = 60_000,
  failure: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    const reason = failure();
    if (reason) throw new Error(`${url} will not come up: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${url} did not come up in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Throws, naming them, when any of `ports` accepts connections on 127.0.0.1: a run must never talk
 * to a server it did not start (a leftover run's, or another program's).
 */
export async function refuseTakenPorts(ports: Record<string, number>): Promise<void> {
  const taken = (
    await Promise.all(
      Object.entries(ports).map(
        ([name, port]) =>
          new Promise<string | undefined>((resolve) => {
            const socket = connect(port, '127.0.0.1');
            socket.once('connect', () => (socket.destroy(), resolve(`${name} ${port}`)));
            socket.once('error', () => resolve(undefined));
          }),
      ),
    )
  ).filter((t): t is string => t !== undefined);
  if (taken.length > 0)
    throw new Error(
      `ports taken by another process (a run left over, or another program): ${taken.join(', ')}; stop it first`,
    );
}

/** A process of the stack exited while a run needed it (e.g. killed from outside the harness). */
export class ExternalExit extends Error {
  override name = 'ExternalExit';
}

/** Rejects when one of `processes` exits without the harness having asked it to stop. */
export function exitWatch(stopping: Set<string>, processes: ManagedProcess[]): Promise<never> {
  const watched = processes.map(
    (p) =>
      new Promise<never>((_resolve, reject) => {
        p.child?.once('exit', (code, signal) => {
          if (stopping.has(p.name)) return;
          reject(
            new ExternalExit(
              `${p.name} exited (code ${code}, signal ${signal}) in the middle of a run; see .data/bench/logs/${p.name}.log`,
            ),
          );
        });
      }),
  );
  const first = Promise.race(watched);
  first.catch(() => undefined); // observed by whoever races it
  return first;
}
