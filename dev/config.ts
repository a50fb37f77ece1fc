/**
 * Settings of the development tools (the vLLM simulator, the BE double), apart from the product's
 * schema: no process under src/ reads them. The tools read the product's settings too where they
 * stand in for its counterparts (queue URLs, the model name).
 */
import { z } from 'zod';
import { int, parseEnvironment } from '../src/config/fields';
import { DEFAULT_BE_TIME_ZONE, isTimeZone } from '../src/domain/be-week';

export const devEnvSchema = z.object({
  VLLM_SIM_PORT: int(0, 65535).default(8800),
  VLLM_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  VLLM_SIM_MAX_NUM_SEQS: int(1, 100_000).default(64),
  VLLM_SIM_LATENCY_MS: int(0, 600_000).default(200),
  VLLM_SIM_LATENCY_PER_TOKEN_MS: z.coerce.number().min(0).max(10_000).default(0),
  /** Over-commitment cost: 0.5 = up to 1.5 × the latency while requests wait (what a full KV cache does). */
  VLLM_SIM_OVERCOMMIT_PENALTY: z.coerce.number().min(0).max(100).default(0),
  /** Like vLLM's --max-model-len: prompt and completion tokens together, counted as vLLM counts them. */
  VLLM_SIM_MAX_MODEL_LEN: int(2, 10_000_000).default(32768),
  /** The BE double's callback port (`npm start`, `npm run be`). */
  BE_DOUBLE_PORT: int(0, 65535).default(8081),
  /** The zone the double's week turns in: the BE's JVM's (UTC, as its image sets no TZ). */
  BE_DOUBLE_TIME_ZONE: z
    .string()
    .min(1)
    .refine(isTimeZone, 'must be an IANA time zone, e.g. UTC or Asia/Seoul')
    .default(DEFAULT_BE_TIME_ZONE),
  /** The double's pause between result-queue polls (the BE's is 5000 ms); 0: none. */
  BE_DOUBLE_POLL_DELAY_MS: int(0, 600_000).default(0),
});

export interface DevConfig {
  simulator: {
    port: number;
    host: string;
    maxNumSeqs: number;
    latencyMs: number;
    latencyPerTokenMs: number;
    overcommitPenalty: number;
    maxModelLen: number;
  };
  beDouble: { port: number; timeZone: string; pollDelayMs: number };
}

export function loadDevConfig(source: NodeJS.ProcessEnv = process.env): DevConfig {
  const env = parseEnvironment(devEnvSchema, source);
  return {
    simulator: {
      port: env.VLLM_SIM_PORT,
      host: env.VLLM_SIM_HOST,
      maxNumSeqs: env.VLLM_SIM_MAX_NUM_SEQS,
      latencyMs: env.VLLM_SIM_LATENCY_MS,
      latencyPerTokenMs: env.VLLM_SIM_LATENCY_PER_TOKEN_MS,
      overcommitPenalty: env.VLLM_SIM_OVERCOMMIT_PENALTY,
      maxModelLen: env.VLLM_SIM_MAX_MODEL_LEN,
    },
    beDouble: {
      port: env.BE_DOUBLE_PORT,
      timeZone: env.BE_DOUBLE_TIME_ZONE,
      pollDelayMs: env.BE_DOUBLE_POLL_DELAY_MS,
    },
  };
}
