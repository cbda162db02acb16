// PostgreSQL for tests: the machine's server (GATEHOUSE_TEST_POSTGRES, default
// postgres://postgres@127.0.0.1:5432/test), a fresh schema per test dropped at teardown, and a TCP
// proxy a test can cut and restore to simulate an outage without disturbing other tests.
import net, { type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';

export const PG_URL = process.env.GATEHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when PostgreSQL answers, else why not (bounded: 3 s). */
export async function postgresUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000, query_timeout: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return `PostgreSQL at ${PG_URL} is not reachable (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs one statement on a short-lived direct connection. */
export async function pgExec<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000, query_timeout: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A new schema name (not created: the store creates it), dropped when the test ends. */
export function testSchema(t: Test, prefix = 'gh_test'): string {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  t.teardown(() => pgExec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).then(() => undefined));
  return schema;
}

/** PG_URL pointed at another port and/or schema (and extra query parameters). */
export function pgUrl(opts: { schema?: string; port?: number; params?: Record<string, string> } = {}): string {
  const u = new URL(PG_URL);
  if (opts.port !== undefined) u.port = String(opts.port);
  if (opts.schema) u.searchParams.set('schema', opts.schema);
  for (const [k, v] of Object.entries(opts.params ?? {})) u.searchParams.set(k, v);
  return u.toString();
}

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones (accepted, then closed at once). */
  cut(): void;
  restore(): void;
  /** Connections currently relayed. */
  readonly open: number;
}

/** A TCP relay to PostgreSQL on 127.0.0.1:0, closed at teardown. */
export async function startTcpProxy(t: Test): Promise<TcpProxy> {
  const target = new URL(PG_URL);
  const sockets = new Set<net.Socket>();
  let up = true;
  const server = net.createServer((client) => {
    if (!up) return void client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const pair = [client, upstream];
    const drop = () => {
      for (const s of pair) {
        s.destroy();
        sockets.delete(s);
      }
    };
    for (const s of pair) {
      sockets.add(s);
      s.on('error', drop);
      s.on('close', drop);
      s.setNoDelay(true);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = () => {
    up = false;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  t.teardown(() => {
    cut();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    cut,
    restore: () => void (up = true),
    get open() {
      return sockets.size / 2;
    },
  };
}

/**
 * Polls `check` every `everyMs` until it returns a truthy value, failing after `ms`: a generous
 * ceiling for an event to happen on a busy machine, never a claim about how fast it happens.
 */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  ms = 30_000,
  everyMs = 20,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not met within ${ms} ms${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
