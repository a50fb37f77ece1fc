/** Process lifecycle shared by the three entry points: config errors, signals, graceful stop. */
import { ConfigError } from '../config';
import type { Logger } from './logger';

/** Runs `main`; a configuration error prints its list and exits 1, other start errors exit 1 too. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
    } else {
      process.stderr.write(`${name}: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  });
}

/** Calls `stop` once on SIGTERM/SIGINT, then exits 0 (or 1 if stopping failed or took too long). */
export function onShutdown(logger: Logger, stop: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
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
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
