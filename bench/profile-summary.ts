/**
 * `node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a CPU profile (from the
 * benchmark's `--cpu-profile`, or `node --cpu-prof`) spent its time: self time by function and by
 * package (node_modules package, Node internals, our files), busy time only (idle excluded), as
 * milliseconds and shares of the busy time.
 */
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string } }>;
  samples: number[];
  timeDeltas: number[];
}

/** What a sample's function belongs to: an npm package, a Node internal module, a file of ours. */
export function ownerOf(url: string, functionName: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  // V8's own entries: (garbage collector), (program), and natives such as writev.
  if (url === '') return functionName.startsWith('(') ? functionName : `(native ${functionName})`;
  return url.replace(/^file:\/\//, '').replace(/^.*?\/(dist|src|bench)\//, '$1/');
}

export function summarise(profile: CpuProfile): {
  busyMs: number;
  idleMs: number;
  byFunction: Map<string, number>;
  byOwner: Map<string, number>;
} {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id);
    const micros = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') {
      idle += micros;
      return;
    }
    busy += micros;
    const owner = ownerOf(frame.url, frame.functionName);
    const fn = `${frame.functionName || '(anonymous)'}  ${owner}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + micros);
  });
  return { busyMs: busy / 1000, idleMs: idle / 1000, byFunction, byOwner };
}

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: bench/profile-summary.ts <file.cpuprofile> [top]');
  const top = Number(process.argv[3] ?? 25);
  const { busyMs, idleMs, byFunction, byOwner } = summarise(JSON.parse(readFileSync(file, 'utf8')));
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, micros]) => {
        const ms = micros / 1000;
        return `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / busyMs).toFixed(1).padStart(5)} %  ${key}`;
      })
      .join('\n');
  process.stdout.write(
    `${file}: busy ${busyMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms\n\n` +
      `self time by owner\n${rows(byOwner)}\n\nself time by function\n${rows(byFunction)}\n`,
  );
}

if (require.main === module) main();
