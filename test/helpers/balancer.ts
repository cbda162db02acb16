// A small TCP (layer 4) load balancer for multi-instance tests, configured like nginx/HAProxy in
// docs/scale-out.md: round robin per connection over the backends that are up.
// - Health check: each backend's /readyz is polled (every 100 ms, one poll at a time); a backend
//   is taken out while it answers anything but 200 (or does not answer) and put back on a 200.
// - A connect that fails (refused: the instance stopped listening or is not started yet) is retried
//   on the next backend, and that backend is taken out until its health check passes again. Nothing
//   was sent, so nothing can run twice.
// - Once connected, bytes are relayed as they are; a connection its backend closes or resets is
//   closed or reset towards the client too, never replayed (the request may have reached the app).
// - With no backend up it tries every backend anyway (fail open, as nginx and HAProxy do).
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
  /** Backend name per connection attempt, in order (retries after a refused connect included). */
  readonly picks: string[];
  /** Connects that failed and were retried on another backend. */
  readonly retried: number;
  /** Client connections that no backend could take (every try failed to connect). */
  readonly failed: number;
  /** Client connections whose backend reset them after connecting (passed on to the client). */
  readonly reset: number;
}

const HEALTH_EVERY_MS = 100;
const HEALTH_TIMEOUT_MS = 5000;
const MAX_TRIES = 6;

export async function startBalancer(t: Test, backends: Backend[]): Promise<Balancer> {
  let next = 0;
  let failed = 0;
  let retried = 0;
  let reset = 0;
  const picks: string[] = [];
  const open = new Set<net.Socket>();
  const pick = (): Backend => {
    const n = backends.length;
    for (let i = 0; i < n; i++) {
      const b = backends[(next + i) % n] as Backend;
      if (b.up) {
        next = (next + i + 1) % n;
        return b;
      }
    }
    return backends[next++ % n] as Backend; // none up: fail open
  };

  const server = net.createServer((client) => {
    open.add(client);
    client.pause(); // what the client sends waits until a backend is connected
    client.on('error', () => undefined);
    let upstream: net.Socket | null = null;
    client.once('close', () => {
      open.delete(client);
      upstream?.destroy();
    });
    const connect = (tries: number): void => {
      if (client.destroyed) return;
      if (tries >= MAX_TRIES) {
        failed++;
        return void client.destroy();
      }
      const b = pick();
      picks.push(b.name);
      const up = net.connect(b.port, '127.0.0.1');
      open.add(up);
      let connected = false;
      up.once('connect', () => {
        connected = true;
        upstream = up;
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => {
        if (connected) {
          reset++;
          return void client.destroy();
        }
        b.up = false;
        retried++;
        connect(tries + 1);
      });
      up.once('close', () => open.delete(up));
    };
    connect(0);
  });

  const polling = new Set<Backend>();
  const health = setInterval(() => {
    for (const b of backends) {
      if (polling.has(b)) continue;
      polling.add(b);
      fetch(`${b.admin}/readyz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) })
        .then(
          async (r) => {
            await r.arrayBuffer();
            b.up = r.status === 200;
          },
          () => void (b.up = false),
        )
        .finally(() => polling.delete(b));
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
    get retried() {
      return retried;
    },
    get failed() {
      return failed;
    },
    get reset() {
      return reset;
    },
  };
}
