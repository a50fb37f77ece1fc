/** Process lifecycle shared by the three entry points: config errors, signals, graceful stop. */
import type { Server, ServerResponse } from 'node:http';
import { ConfigError } from '../config';
import type { Logger } from './logger';

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * What SIGTERM/SIGINT do now: exit at once while starting (runMain), stop in order once running
 * (onShutdown). Looked up when Node runs the listener, not when the signal was caught.
 */
let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
let listening = false;

/**
 * Installs the one listener per signal, for the life of the process; it is never removed. Node
 * watches a signal only while it has listeners: removing the last one closes the watcher and drops a
 * signal it had caught but not yet handed to JavaScript. So the phases swap `onSignal`, not listeners.
 */
function listen(): void {
  if (listening) return;
  listening = true;
  for (const signal of SIGNALS) process.on(signal, (received) => onSignal?.(received));
}

/**
 * Runs `main`; a configuration error prints its list and exits 1, other start errors exit 1 too.
 * A SIGTERM/SIGINT before `main` called `onShutdown` exits 0 at once: nothing is in hand yet.
 */
export function runMain(name: string, main: () => Promise<void>): void {
  onSignal = (signal) => {
    process.stderr.write(`${name}: ${signal} while starting; exiting\n`);
    process.exit(0);
  };
  listen();
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
    } else {
      process.stderr.write(`${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  });
}

/**
 * From now on SIGTERM/SIGINT call `stop` once, then exit 0 (or 1 if stopping failed or took longer
 * than `timeoutMs`); so does a signal caught earlier whose listener Node has not run yet (one that
 * arrived during the synchronous code that ends with this call). The process's only signal handler:
 * libraries must not install their own.
 */
export function onShutdown(logger: Logger, stop: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  onSignal = (signal) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'Shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('Stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: err instanceof Error ? err.message : String(err) }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  listen();
}

/**
 * Returns how to close `server` gracefully (call it right after creating the server): stop accepting
 * connections, let the requests in flight finish and answer them with `Connection: close`, close idle
 * keep-alive connections. Without the header a keep-alive client would hold its connection, and so
 * the process, until its idle timeout.
 */
export function gracefulHttpClose(server: Server): () => Promise<void> {
  let closing = false;
  const pending = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    if (closing) res.setHeader('Connection', 'close');
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });
  return () => {
    closing = true;
    const closed = new Promise<void>((resolve, reject) =>
      server.close((err) => (err ? reject(err) : resolve())),
    );
    for (const res of pending) if (!res.headersSent) res.setHeader('Connection', 'close');
    server.closeIdleConnections();
    return closed;
  };
}
