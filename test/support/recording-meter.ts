/**
 * A Temporal MetricMeter that records what is added, recorded and set, for tests of the instruments
 * the worker records on the SDK's meter (exported by its Prometheus exporter in the real process).
 */
import type { MetricMeter, MetricTags } from '@temporalio/common';

export interface Recorded {
  kind: 'counter' | 'histogram' | 'gauge';
  name: string;
  value: number;
  tags: MetricTags;
}

export function recordingMeter(): { meter: MetricMeter; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const instrument = (kind: Recorded['kind'], name: string) => {
    const record = (value: number, tags: MetricTags = {}) => void recorded.push({ kind, name, value, tags });
    return {
      name,
      unit: undefined,
      description: undefined,
      add: record,
      record,
      set: record,
      withTags: () => instrument(kind, name),
    };
  };
  const meter = {
    createCounter: (name: string) => instrument('counter', name),
    createHistogram: (name: string) => instrument('histogram', name),
    createGauge: (name: string) => instrument('gauge', name),
    withTags: () => meter,
  } as unknown as MetricMeter;
  return { meter, recorded };
}
