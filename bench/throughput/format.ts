/** How the throughput suite's reports write figures: durations, rates, ratios, Markdown tables. */
import type { RunReport } from './types';

export function ms(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  if (Math.abs(value) >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${value.toFixed(Math.abs(value) < 10 ? 1 : 0)} ms`;
}

/** A simulated generation time: `0`, `1 s`, `250 ms`. */
export function latency(valueMs: number): string {
  return valueMs === 0 ? '0' : valueMs % 1000 === 0 ? `${valueMs / 1000} s` : `${valueMs} ms`;
}

export function rate(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export const x = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(2)}×`);
export const verdict = (pass?: boolean) => (pass === undefined ? 'n/a' : pass ? '**pass**' : '**FAIL**');
export const percent = (share: number | undefined) =>
  share === undefined ? 'n/a' : `${Math.round(share * 100)} %`;
export const num = (value: number | undefined, digits = 1) =>
  value === undefined ? '–' : value.toFixed(digits);

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** delivered/s, or how many of the requests were delivered when the run did not finish. */
export function runRate(run: RunReport | undefined): string {
  if (!run) return '–';
  const value = rate(run.deliveredPerSec);
  return run.complete ? value : `${value} (${run.delivered}/${run.requested} delivered)`;
}

export function cpuList(cpu: Record<string, number>): string {
  return Object.entries(cpu)
    .map(([name, seconds]) => `${name} ${num(seconds)}`)
    .join(', ');
}
