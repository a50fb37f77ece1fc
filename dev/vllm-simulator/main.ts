/** Runs the simulated vLLM server as its own process (local runs, chaos tests, benchmarks). */
import { loadConfig } from '../../src/config';
import { loadDevConfig } from '../config';
import { createLogger } from '../../src/shared/logger';
import { onShutdown, runMain } from '../../src/shared/process';
import { createVllmSimulator } from '.';

runMain('vllm-simulator', async () => {
  const config = loadConfig();
  const logger = createLogger('vllm-simulator', config.logLevel);
  const { port, host, maxNumSeqs, latencyMs, latencyPerTokenMs, overcommitPenalty, maxModelLen } =
    loadDevConfig().simulator;
  const model = config.vllm.model;
  const simulator = createVllmSimulator({
    maxNumSeqs,
    latencyMs,
    latencyPerTokenMs,
    overcommitPenalty,
    model,
    maxModelLen,
  });
  const { url } = await simulator.listen(port, host);
  logger.info(
    { url, model, maxModelLen, maxNumSeqs, latencyMs, latencyPerTokenMs, overcommitPenalty },
    'vLLM simulator listening',
  );
  onShutdown(logger, () => simulator.close());
});
