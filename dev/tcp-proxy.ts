/** A TCP proxy that can be taken down and brought back, to make a service unreachable for a while. */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(
  listenPort: number,
  targetPort: number,
  host = '127.0.0.1',
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, host);
        // A side that goes away takes the other with it (no half-open connections), so the server
        // sees a client that died the way it would without the proxy in between.
        for (const [s, other] of [
          [client, upstream],
          [upstream, client],
        ]) {
          sockets.add(s);
          s.on('close', () => (sockets.delete(s), other.destroy()));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(listenPort, host, () => resolve());
    });

  const stop = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    const s = server;
    server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await listen();
  return { port: listenPort, down: stop, up: listen, close: stop };
}
