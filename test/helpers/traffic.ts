// Steady allowed traffic for the rolling-restart test: about `rate` requests per second through a
// balancer, half on keep-alive connections (reused, as browsers and proxies do) and half on a new
// connection each, every one with a session cookie so the gateway records it. Each request has a path
// of its own, so the test can find every answered request in the audit, and nothing else there.
// A request fails when it gets no complete answer (reset, closed, 120 s without an answer) or any
// status but 200; failures are kept with what happened.
import http from 'node:http';

export interface Answered {
  path: string;
  requestId: string;
  session: string;
  /** performance.now() when the answer was complete. */
  at: number;
}

export interface Traffic {
  readonly answered: Answered[];
  readonly failures: string[];
  /** Requests sent so far. */
  readonly sent: number;
  /** Ticks skipped because `maxInFlight` requests were waiting (the machine is slower than the rate). */
  readonly skipped: number;
  /** Stops sending and resolves once every request sent has an outcome. */
  stop(): Promise<void>;
}

const TICK_MS = 50;
const ANSWER_WITHIN_MS = 120_000;

export function startTraffic(opts: {
  port: number;
  host: string;
  rate: number;
  /** Session cookies (name=value), used in turn; `sessionOf` maps each back to its session id. */
  cookies: string[];
  sessionOf: (cookie: string) => string;
  maxInFlight?: number;
}): Traffic {
  // The client drops an idle keep-alive connection after 1 s, well before the gateway's
  // keep_alive_timeout (3 s in the rolling-restart test): a client must not send on a connection
  // the server is closing as idle.
  const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 16, timeout: 1000 });
  const answered: Answered[] = [];
  const failures: string[] = [];
  const maxInFlight = opts.maxInFlight ?? 400;
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  const one = (n: number): void => {
    const cookie = opts.cookies[n % opts.cookies.length] as string;
    const path = `/r/${n}`;
    const reused = n % 2 === 0;
    inFlight++;
    let settled = false;
    const done = (failure: string | null, requestId = ''): void => {
      if (settled) return;
      settled = true;
      if (failure) failures.push(`${path} (${reused ? 'keep-alive' : 'new connection'}): ${failure}`);
      else answered.push({ path, requestId, session: opts.sessionOf(cookie), at: performance.now() });
      if (--inFlight === 0) idle?.();
    };
    const req = http.request(
      { host: '127.0.0.1', port: opts.port, path, headers: { host: opts.host, cookie }, agent: reused ? keepAlive : false },
      (res) => {
        res.resume();
        res.on('end', () => {
          const id = res.headers['x-request-id'];
          if (res.statusCode !== 200) done(`status ${res.statusCode}`);
          else if (typeof id !== 'string') done('no x-request-id');
          else done(null, id);
        });
        res.on('error', (err: NodeJS.ErrnoException) => done(`response ${err.code ?? err.message}`));
        res.on('close', () => (res.complete ? undefined : done('response cut off')));
      },
    );
    req.setTimeout(ANSWER_WITHIN_MS, () => req.destroy(new Error(`no answer within ${ANSWER_WITHIN_MS / 1000} s`)));
    req.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    req.end();
  };

  // The rate is approximate: each tick sends what the time since the last one calls for (a late
  // tick at most twice a tick's share: no catching up in bursts), unless too many wait.
  let last = performance.now();
  let owed = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    owed += Math.min(((now - last) / 1000) * opts.rate, (2 * TICK_MS * opts.rate) / 1000);
    last = now;
    if (inFlight >= maxInFlight) return void skipped++;
    for (; owed >= 1 && inFlight < maxInFlight; owed--) one(sent++);
  }, TICK_MS);

  return {
    answered,
    failures,
    get sent() {
      return sent;
    },
    get skipped() {
      return skipped;
    },
    async stop() {
      clearInterval(timer);
      if (inFlight > 0) await new Promise<void>((r) => (idle = r));
      keepAlive.destroy();
    },
  };
}
