/** The faults the chaos stack is started with: the vLLM simulator's rules and the BE callback's. */
import type { CallbackFaults } from '../dev/be-double';

/** The vLLM simulator's fault rules, set before any traffic. */
export const VLLM_FAULT_RULES = [
  { kind: 'hang', probability: 0.05 },
  { kind: 'error500', probability: 0.15 },
  { kind: 'slow', probability: 0.1, slowMs: 3000 },
  // Terminal: the run sends "500" (held until 5.5 min after the request's send) and the BE re-requests.
  { kind: 'error400', probability: 0.03 },
];

/** The BE answers 404 for any unexpected exception; 503 from a proxy or a restart in between. */
export function callbackFaults(random: () => number): CallbackFaults {
  return { failRate: 0.1, failStatus: [404, 503], slowRate: 0.03, slowMs: 7000, random };
}
