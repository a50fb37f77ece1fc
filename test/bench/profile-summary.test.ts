import { ownerOf, summarise } from '../../bench/profile-summary';

describe('bench/profile-summary (CPU profile totals)', () => {
  it('names the owner of a frame: npm package (scoped or not), Node internal, native, our file', () => {
    expect(ownerOf('file:///app/node_modules/@smithy/core/dist-cjs/index.js', 'f')).toBe('@smithy/core');
    expect(ownerOf('/app/node_modules/a/node_modules/zod/v4/core/schemas.cjs', 'parse')).toBe('zod');
    expect(ownerOf('node:internal/http', 'g')).toBe('node:internal');
    expect(ownerOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(ownerOf('', 'writev')).toBe('(native writev)');
    expect(ownerOf('file:///work/main/dist/src/api/app.js', 'h')).toBe('dist/src/api/app.js');
  });

  it('sums self time per function and owner over the samples, idle apart', () => {
    const frame = (id: number, functionName: string, url: string) => ({
      id,
      callFrame: { functionName, url },
    });
    const summary = summarise({
      nodes: [
        frame(1, '(idle)', ''),
        frame(2, 'parse', '/x/node_modules/zod/a.js'),
        frame(3, 'send', '/x/node_modules/zod/b.js'),
      ],
      samples: [1, 2, 3, 2, 1],
      timeDeltas: [1000, 2000, 500, 3000, 4000],
    });
    expect(summary.idleMs).toBe(5);
    expect(summary.busyMs).toBe(5.5);
    expect(summary.byOwner.get('zod')).toBe(5500);
    expect(summary.byFunction.get('parse  zod')).toBe(5000);
    expect(summary.byFunction.get('send  zod')).toBe(500);
  });
});
