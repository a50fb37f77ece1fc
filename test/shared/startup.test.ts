import { createLogger } from '../../src/shared/logger';
import { connectWithRetry } from '../../src/shared/startup';

const logger = createLogger('startup-test', 'silent');
const noSleep = async () => undefined;

describe('connectWithRetry', () => {
  it('keeps trying until the dependency answers, backing off between attempts', async () => {
    let calls = 0;
    const delays: number[] = [];
    const value = await connectWithRetry(
      'Temporal',
      async () => {
        calls++;
        if (calls < 4) throw new Error('connection refused');
        return 'connected';
      },
      logger,
      {
        maxWaitMs: 60_000,
        initialDelayMs: 100,
        maxDelayMs: 300,
        sleep: async (ms) => {
          delays.push(ms);
        },
      },
    );
    expect(value).toBe('connected');
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 200, 300]);
  });

  it('gives up with the last error once the wait would exceed the bound', async () => {
    await expect(
      connectWithRetry(
        'Temporal',
        async () => {
          throw new Error('connection refused');
        },
        logger,
        { maxWaitMs: 0, sleep: noSleep },
      ),
    ).rejects.toThrow(/^Temporal unreachable after 1 attempts in 0 s: connection refused$/);
  });
});
