/** What both suites read back from the vLLM simulator: its counters and its record of each request. */
import type { Metrics, SimulatorStats } from '../dev/vllm-simulator/metrics';

/** GET /sim/stats. */
export type SimulatorCounters = Omit<SimulatorStats, 'requests'>;
/** An entry of GET /sim/requests; its prompt carries `#m<memberId>` (bench/requests.ts). */
export type SimulatorRecord = ReturnType<Metrics['requestSummaries']>[number];

export async function simulatorCounters(baseUrl: string): Promise<SimulatorCounters> {
  return (await (await fetch(`${baseUrl}/sim/stats`)).json()) as SimulatorCounters;
}

export async function simulatorRecords(baseUrl: string): Promise<SimulatorRecord[]> {
  return (await (await fetch(`${baseUrl}/sim/requests`)).json()) as SimulatorRecord[];
}

/** Per member: ms its requests spent at the simulator, from arrival (slot wait included) to the answer. */
export function simulatorMsByMember(records: SimulatorRecord[]): Map<number, number> {
  const simMs = new Map<number, number>();
  for (const record of records) {
    const member = Number(/#m(\d+)/.exec(record.prompt ?? '')?.[1]);
    if (!Number.isFinite(member) || record.finishedAt === undefined) continue;
    simMs.set(member, (simMs.get(member) ?? 0) + (record.finishedAt - record.receivedAt));
  }
  return simMs;
}
