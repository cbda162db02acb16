// A small TCP load balancer for multi-instance tests: round robin per connection over the backends
// that are up, like nginx/HAProxy with active health checks. A backend is taken out when its
// /readyz (polled every 100 ms) is not 200 or when a connect to it is refused, and put back when
// /readyz answers 200 again. A connection whose backend fails before answering a single byte is
// replayed on the next backend (nginx's `proxy_next_upstream error` does the same for requests
// that cannot have reached an app: nothing came back from it).
import net, { type AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface Backend {
  name: string;
  port: number;
  /** The instance's admin URL, for /readyz. */
  admin: string;
  up: boolean;
}

export interface Balancer {
  port: number;
  /** Backend name per connection, in the order connections were relayed (retries included). */
  readonly picks: string[];
  /** Connections that no backend could take. */
  readonly failed: number;
}

const HEALTH_EVERY_MS = 100;
const MAX_TRIES = 4;

export async function startBalancer(t: Test, backends: Backend[]): Promise<Balancer> {
  let next = 0;
  let failed = 0;
  const picks: string[] = [];
  const open = new Set<net.Socket>();
  const pick = (): Backend | undefined => {
    for (let i = 0; i < backends.length; i++) {
      const b = backends[next++ % backends.length] as Backend;
      if (b.up) return b;
    }
    return undefined;
  };

  const server = net.createServer((client) => {
    open.add(client);
    const sent: Buffer[] = [];
    let answered = false;
    let upstream: net.Socket | null = null;
    const relay = (tries: number): void => {
      const b = pick();
      if (!b || tries >= MAX_TRIES) {
        failed++;
        return void client.destroy();
      }
      picks.push(b.name);
      const up = net.connect(b.port, '127.0.0.1');
      upstream = up;
      open.add(up);
      for (const chunk of sent) up.write(chunk);
      up.on('data', (d: Buffer) => {
        answered = true;
        sent.length = 0;
        client.write(d);
      });
      up.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') b.up = false;
      });
      up.on('close', () => {
        open.delete(up);
        if (upstream !== up) return;
        if (!answered && !client.destroyed) relay(tries + 1);
        else client.end();
      });
    };
    client.on('data', (d: Buffer) => {
      if (!answered) sent.push(d);
      upstream?.write(d);
    });
    client.on('error', () => undefined);
    client.on('close', () => {
      open.delete(client);
      upstream?.destroy();
    });
    relay(0);
  });

  const health = setInterval(() => {
    for (const b of backends) {
      fetch(`${b.admin}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => void (b.up = r.status === 200),
        () => void (b.up = false),
      );
    }
  }, HEALTH_EVERY_MS);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    clearInterval(health);
    for (const s of open) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    picks,
    get failed() {
      return failed;
    },
  };
}
