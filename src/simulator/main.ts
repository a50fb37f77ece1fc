/** Runs the simulated vLLM server as its own process (local runs, chaos tests, benchmarks). */
import pino from 'pino';
import { loadConfig } from '../config';
import { createVllmSimulator } from './vllm-simulator';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, name: 'vllm-simulator' });
  const { port, maxNumSeqs, latencyMs, latencyPerTokenMs } = config.simulator;
  const model = config.vllm.model;
  const simulator = createVllmSimulator({ maxNumSeqs, latencyMs, latencyPerTokenMs, model });
  const { url } = await simulator.listen(port);
  logger.info({ url, model, maxNumSeqs, latencyMs, latencyPerTokenMs }, 'vLLM simulator listening');

  const stop = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'vLLM simulator stopping');
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'vLLM simulator failed to close');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `vLLM simulator failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
