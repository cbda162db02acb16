// Gatehouse under test: a temp directory with gateway.yaml, three apps (bypass, allow for group
// staff, deny), the gateway's session keys and an external token issuer; the gateway itself is
// started as a separate process with `node dist/cli.js start --config …`.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { REPO_DIR, freePort, httpGetText, processTree, sleep, startService, waitForPort } from './proc.mjs';
import { issuerKey } from './mint.mjs';

export const COOKIE = 'gh_bench';
export const ISSUER = 'https://issuer.bench.test';
export const AUDIENCE = 'gatehouse-bench';
export const HOSTS = { bypass: 'bypass.bench.test', allow: 'allow.bench.test', deny: 'deny.bench.test', plain: 'plain.bench.test', fa: 'fa.bench.test' };
export const HS_ISSUER = 'https://flood.bench.test';

export function distReady() {
  return existsSync(join(REPO_DIR, 'dist', 'cli.js'));
}

export async function importDist(rel) {
  return import(pathToFileURL(join(REPO_DIR, 'dist', rel)).href);
}

export function benchApps(upstream) {
  return {
    bypass: { name: 'bench-bypass', hosts: [HOSTS.bypass], upstream, policies: [{ name: 'open', action: 'bypass', include: [{ everyone: true }] }] },
    allow: { name: 'bench-allow', hosts: [HOSTS.allow], upstream, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] },
    // The allow app without the signed assertion (identity headers only): the cold path minus its ES256 signature.
    plain: { name: 'bench-plain', hosts: [HOSTS.plain], upstream, jwt_assertion: false, policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] },
    deny: {
      name: 'bench-deny',
      hosts: [HOSTS.deny],
      upstream,
      // Deny is evaluated before allow: staff are refused here although the allow rule matches too.
      policies: [
        { name: 'no-staff', action: 'deny', include: [{ group: 'staff' }] },
        { name: 'staff', action: 'allow', include: [{ group: 'staff' }] },
      ],
    },
  };
}

/** The allow app in forward_auth mode (no upstream: nginx asks, nginx forwards). */
export function forwardAuthApp() {
  return { name: 'bench-fa', hosts: [HOSTS.fa], mode: 'forward_auth', policies: [{ name: 'staff', action: 'allow', include: [{ group: 'staff' }] }] };
}

/**
 * Writes a gateway directory. opts: { upstream, logLevel, workers, gateway (extra keys), issuerKeys
 * (from issuerKeys()), hsSecret, keysFrom (copy an existing session key file), apps, forwardAuthPeer
 * (the address nginx asks from: trusted_proxies, plus the forward-auth app) }.
 */
export async function prepareGateway(opts) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  mkdirSync(join(dir, 'apps'));
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  mkdirSync(join(dir, 'data'));
  const dataPort = await freePort();
  const adminPort = await freePort();
  const issuers = [];
  if (opts.issuerKeys) {
    writeFileSync(join(dir, 'issuer.jwks.json'), JSON.stringify({ keys: opts.issuerKeys.map((k) => k.publicJwk) }));
    issuers.push({ issuer: ISSUER, jwks: './issuer.jwks.json', audience: AUDIENCE, algorithms: opts.issuerKeys.map((k) => k.alg) });
  }
  if (opts.hsSecret) issuers.push({ issuer: HS_ISSUER, secret: opts.hsSecret, audience: AUDIENCE, algorithms: ['HS256'] });
  const config = {
    listen: `127.0.0.1:${dataPort}`,
    admin: { listen: `127.0.0.1:${adminPort}` },
    session: { cookie: COOKIE, keys: './keys/session.jwks.json', secure_cookie: false },
    store: { sqlite: './data/gatehouse.db' },
    apps: './apps',
    log: { level: opts.logLevel ?? 'warn' },
    ...(opts.workers && opts.workers !== 1 ? { workers: opts.workers } : {}),
    ...(issuers.length ? { token_issuers: issuers } : {}),
    ...(opts.forwardAuthPeer ? { trusted_proxies: [opts.forwardAuthPeer] } : {}),
    ...(opts.gateway ?? {}),
  };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(config));
  const apps = { ...(opts.apps ?? benchApps(opts.upstream)), ...(opts.forwardAuthPeer ? { fa: forwardAuthApp() } : {}) };
  for (const [name, app] of Object.entries(apps)) writeFileSync(join(dir, 'apps', `${name}.yaml`), stringify(app));
  const keysFile = join(dir, 'keys', 'session.jwks.json');
  if (opts.keysFrom) copyFileSync(opts.keysFrom, keysFile);
  else {
    const { loadOrCreateKeySet } = await importDist('auth/keys.js');
    await loadOrCreateKeySet(keysFile);
  }
  return { dir, configFile: join(dir, 'gateway.yaml'), dataPort, adminPort, keysFile, dbFile: join(dir, 'data', 'gatehouse.db'), config };
}

export function issuerKeys(algs = ['ES256', 'RS256', 'EdDSA']) {
  return algs.map((a) => issuerKey(a));
}

/** A gateway session cookie value for a user in group staff, minted with the gateway's own key. */
export async function mintCookie(keysFile, claims = {}) {
  const { loadOrCreateKeySet } = await importDist('auth/keys.js');
  const { mintSessionToken } = await importDist('auth/session-token.js');
  const keys = await loadOrCreateKeySet(keysFile);
  const s = await mintSessionToken(
    keys,
    { sub: 'bench-user', email: 'bench@corp.example', name: 'Bench User', groups: ['staff'], idp: 'local', amr: ['pwd'], ...claims },
    12 * 3_600_000,
  );
  return s.token;
}

/**
 * The headers of nginx's auth_request sub-request as docs/forward-auth/nginx-endpoints.conf makes
 * it (captured from nginx 1.22: its own four, then the client's, Host being the upstream's name),
 * for loading /.gatehouse/auth directly without nginx.
 */
export function subrequestHeaders(cookie, url = `http://${HOSTS.fa}/`) {
  return {
    'X-Original-URL': url,
    'X-Original-Method': 'GET',
    'X-Forwarded-For': '127.0.0.1',
    'X-Request-Id': '3aa9bc624f9ef9c62361bcfd62c8dd14',
    Host: 'gatehouse',
    Cookie: cookie,
  };
}

/**
 * Starts the gateway on a prepared directory. Resolves with the service once the data port accepts
 * connections and the admin /healthz answers 200. nodeArgs e.g. ['--cpu-prof', '--cpu-prof-dir=…'].
 * dist: another build's dist/ (an A/B against a baseline build).
 */
export async function startGatehouse(gw, { nodeArgs = [], timeoutMs = 30_000, name = 'gatehouse', dist = join(REPO_DIR, 'dist') } = {}) {
  const svc = startService(name, process.execPath, [...nodeArgs, join(dist, 'cli.js'), 'start', '--config', gw.configFile], {
    readyLine: (j) => (j && typeof j === 'object' && j.msg === 'gatehouse listening' ? j : undefined),
  });
  svc.gw = gw;
  try {
    await waitForPort(gw.dataPort, timeoutMs, '127.0.0.1', () => !svc.exited);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (svc.exited) throw new Error('exited');
      const r = await httpGetText(`http://127.0.0.1:${gw.adminPort}/healthz`).catch(() => null);
      if (r && r.status === 200) break;
      if (Date.now() > deadline) throw new Error(`admin /healthz not 200 after ${timeoutMs} ms`);
      await sleep(50);
    }
  } catch (err) {
    await svc.stop('SIGKILL');
    const detail = `${svc.stderr.slice(-3000)}${svc.stdout.slice(-3000)}`.trim();
    const e = new Error(`gatehouse did not start (${err.message}): ${detail}`);
    e.output = detail;
    throw e;
  }
  svc.dataPort = gw.dataPort;
  svc.adminPort = gw.adminPort;
  return svc;
}

/** Processes of a running gateway (primary + cluster workers). */
export function gatewayProcesses(svc) {
  return processTree(svc.pid);
}

export function cleanup(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* leave it */
  }
}
