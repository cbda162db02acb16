// Three gateway processes on one PostgreSQL schema behind the test balancer (balancer.ts): each
// instance in a directory of its own with the same config, apps, users file and a copy of one
// session key file — what docs/scale-out.md describes. Restarting an instance keeps its directory
// and gives the balancer its new ports.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { stringify } from 'yaml';
import { loadOrCreateKeySet, type KeySet } from '../../src/auth/keys.js';
import { startBalancer, type Backend, type Balancer } from './balancer.js';
import { startInstance, stopInstance, type Instance } from './instances.js';
import { eventually, pgUrl, testSchema } from './pg.js';

export const CLUSTER_ADMIN_TOKEN = 'scale-out-admin-token-0123456789';
const KEYS = 'keys/session.jwks.json';

export interface ScaleOutCluster {
  instances: Instance[];
  backends: Backend[];
  lb: Balancer;
  dirs: string[];
  schema: string;
  /** The key set every instance started with. */
  keys: KeySet;
  keyFile(i: number): string;
  /**
   * SIGTERM instance i, wait for its exit code (SIGKILL after `graceMs`, default 30 s), start it
   * again in its directory, wait until the balancer has it back (its /readyz answers 200).
   */
  restart(t: Test, i: number, opts?: { graceMs?: number }): Promise<number | null>;
}

export async function startScaleOutCluster(
  t: Test,
  opts: { gateway: Record<string, unknown>; apps: Record<string, Record<string, unknown>>; files?: Record<string, string>; startTimeoutMs?: number },
): Promise<ScaleOutCluster> {
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const schema = testSchema(t, 'gh_scale');
  const root = t.testdir({});
  const keys = await loadOrCreateKeySet(join(root, 'session.jwks.json'));
  const config = {
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    session: { cookie: 'gatehouse_session', keys: `./${KEYS}`, secure_cookie: false },
    store: { postgres: '${GATEHOUSE_STORE_URL}' },
    apps: './apps',
    log: { level: 'info' },
    ...opts.gateway,
  };
  const dirs = ['A', 'B', 'C'].map((name) => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'apps'), { recursive: true });
    mkdirSync(join(dir, 'keys'), { recursive: true });
    writeFileSync(join(dir, 'gateway.yaml'), stringify(config));
    for (const [app, body] of Object.entries(opts.apps)) writeFileSync(join(dir, 'apps', `${app}.yaml`), stringify(body));
    for (const [file, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, file), text);
    copyFileSync(keys.file, join(dir, KEYS));
    return dir;
  });
  const env = { GATEHOUSE_STORE_URL: pgUrl({ schema }), GATEHOUSE_ADMIN_TOKEN: CLUSTER_ADMIN_TOKEN };
  // One first (it applies the migrations), then the other two.
  const first = await startInstance(t, 'A', dirs[0] as string, env, startTimeoutMs);
  const rest = await Promise.all(['B', 'C'].map((name, i) => startInstance(t, name, dirs[i + 1] as string, env, startTimeoutMs)));
  const instances = [first, ...rest];
  const backends: Backend[] = instances.map((i) => ({ name: i.name, port: i.port, admin: i.admin, up: true }));
  const lb = await startBalancer(t, backends);
  const cluster: ScaleOutCluster = {
    instances,
    backends,
    lb,
    dirs,
    schema,
    keys,
    keyFile: (i) => join(dirs[i] as string, KEYS),
    async restart(t, i, { graceMs = 30_000 } = {}) {
      const old = instances[i] as Instance;
      const started = performance.now();
      const code = await stopInstance(old.proc, graceMs);
      const stopped = performance.now();
      const fresh = await startInstance(t, old.name, dirs[i] as string, env, startTimeoutMs);
      t.comment(`${old.name}: drained and exited in ${Math.round(stopped - started)} ms, listening again ${fresh.startMs} ms after its spawn`);
      instances[i] = fresh;
      const b = backends[i] as Backend;
      Object.assign(b, { port: fresh.port, admin: fresh.admin });
      const ready = async () => {
        const r = await fetch(`${fresh.admin}/readyz`, { signal: AbortSignal.timeout(5000) });
        await r.arrayBuffer();
        return r.status === 200;
      };
      await eventually(ready, startTimeoutMs, 50, `${old.name}'s /readyz answers 200`);
      await eventually(() => b.up, startTimeoutMs, 50, `${old.name} back in the balancer`);
      return code;
    },
  };
  await eventually(() => backends.every((b) => b.up), startTimeoutMs, 50, 'every instance in the balancer');
  return cluster;
}
