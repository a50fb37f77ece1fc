import type { RunReport } from '../../bench/throughput/types';

/** A benchmark run's report for the figure and goal tests: 2000 delivered unless `fields` says otherwise. */
export const benchRun = (fields: Partial<RunReport> & Pick<RunReport, 'scenario' | 'system'>): RunReport => ({
  mode: 'burst',
  requested: 2000,
  delivered: 2000,
  complete: true,
  e2eMs: {},
  overheadMs: {},
  processes: {},
  sharedCpuSecondsDuringRun: {},
  notes: [],
  ...fields,
});
