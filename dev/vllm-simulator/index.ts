/**
 * A simulated vLLM server: an OpenAI-compatible stand-in for vLLM serving Mistral-7B-Instruct-v0.3,
 * for local runs, tests and benchmarks on machines without a GPU. It is NOT a model: answers are
 * deterministic Korean feedback texts built from the prompt. It reproduces what matters to a client:
 * request validation (Mistral's chat template), both of vLLM's error shapes, a `--max-num-seqs`
 * style scheduler with a FIFO queue, abort on disconnect, Prometheus metrics, and injectable faults.
 * Every response carries the header `x-vllm-simulator: 1`.
 */
export { createVllmSimulator, type SimulatorOptions, type VllmSimulator } from './server';
export type { FaultKind, FaultRule } from './faults';
export type { SimulatorRequestRecord, SimulatorStats } from './metrics';
