// Identity refresh load (issue 11): what 10,000 live sessions refreshing every 10 min cost the
// gateway, as a share of one core. The gateway runs as its own process (`node dist/cli.js start`,
// SQLite store, one OIDC provider with `refresh: 10m`); the identity provider is a minimal real
// OpenID Connect server in this process (discovery, JWKS, the refresh_token grant with rotated
// refresh tokens and an ES256-signed ID token, userinfo), so every refresh is the full round trip:
// lease in the store → open the sealed refresh token → token endpoint (ID token verified) →
// userinfo → claims mapped → compared with the live identity → outcome written durably.
//
// The store is seeded with N sessions, each with a sealed refresh token, in use, their next refresh
// spread evenly over one period (the steady state: N / period refreshes per second). The gateway's
// CPU time (utime + stime from /proc) is read over an idle baseline window before the first one is
// due, then over a window of the steady state. Reported: CPU per refresh, and the share of one
// core = CPU in the window / window length (with and without the idle baseline). The window is a
// sample of the period at the period's own rate, so the share holds for the whole period.
//   npm run build && node bench/refresh-load.mjs [--sessions 10000] [--period 600] [--window 120] [--baseline 20]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { URLSearchParams } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { distReady, importDist } from './lib/gatehouse.mjs';
import { cpuSeconds, freePort, httpGetText, REPO_DIR, sleep, startService, waitForPort } from './lib/proc.mjs';

const { values: o } = parseArgs({
  options: { sessions: { type: 'string', default: '10000' }, period: { type: 'string', default: '600' }, window: { type: 'string', default: '120' }, baseline: { type: 'string', default: '20' } },
});
const N = Number(o.sessions);
const PERIOD_S = Number(o.period);
const WINDOW_S = Number(o.window);
const BASELINE_S = Number(o.baseline);
if (!distReady()) throw new Error('run npm run build first');
const { loadOrCreateKeySet } = await importDist('auth/keys.js');
const { openSqliteStore } = await importDist('store/sqlite/store.js');
const { Sealer } = await importDist('login/seal.js');

// ---------------------------------------------------------------- the identity provider
const CLIENT_ID = 'gatehouse-bench';
const CLIENT_SECRET = 'bench-client-secret-0123456789abcdef';
const idpKey = await generateKeyPair('ES256', { extractable: true });
const publicJwk = { ...(await exportJWK(idpKey.publicKey)), kid: 'bench-idp-1', alg: 'ES256', use: 'sig' };
const counts = { token: 0, userinfo: 0, refused: 0 };
const subjectOf = (token, prefix) => (token?.startsWith(prefix) ? token.slice(prefix.length).split('.')[0] : null);
const userOf = (sub) => ({ sub, email: `${sub}@corp.example`, email_verified: true, name: `User ${sub}`, groups: ['staff', 'wiki-editors'] });
let issuer = '';
const idp = http.createServer((req, res) => {
  const json = (status, body) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const url = new URL(req.url ?? '/', issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    return json(200, {
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/userinfo`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
    });
  }
  if (url.pathname === '/jwks') return json(200, { keys: [publicJwk] });
  if (url.pathname === '/userinfo') {
    counts.userinfo++;
    const sub = subjectOf(req.headers.authorization, 'Bearer at-');
    return sub ? json(200, userOf(sub)) : (counts.refused++, json(401, { error: 'invalid_token' }));
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      counts.token++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      // client_secret_basic: both parts form-encoded (RFC 6749 2.3.1), then base64.
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map((x) => decodeURIComponent(x));
      const sub = subjectOf(form.get('refresh_token'), 'rt-');
      if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return (counts.refused++, json(401, { error: 'invalid_client' }));
      if (form.get('grant_type') !== 'refresh_token' || !sub) return (counts.refused++, json(400, { error: 'invalid_grant' }));
      const now = Math.floor(Date.now() / 1000);
      const idToken = await new SignJWT({ sub, email: `${sub}@corp.example`, email_verified: true })
        .setProtectedHeader({ alg: 'ES256', kid: 'bench-idp-1' })
        .setIssuer(issuer)
        .setAudience(CLIENT_ID)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(idpKey.privateKey);
      const nonce = Math.random().toString(36).slice(2);
      json(200, { access_token: `at-${sub}.${nonce}`, token_type: 'Bearer', expires_in: 600, refresh_token: `rt-${sub}.${nonce}`, id_token: idToken, scope: 'openid email profile groups' });
    });
    return;
  }
  json(404, { error: 'not_found' });
});
await new Promise((r) => idp.listen(0, '127.0.0.1', r));
issuer = `http://127.0.0.1:${idp.address().port}`;

// ---------------------------------------------------------------- the gateway's store, seeded
const dir = mkdtempSync(join(tmpdir(), 'gh-refresh-bench-'));
mkdirSync(join(dir, 'apps'));
writeFileSync(join(dir, 'apps', 'wiki.yaml'), `name: wiki\nhosts: [wiki.test]\nupstream: http://127.0.0.1:9\npolicies:\n  - {name: staff, action: allow, include: [{group: staff}]}\n`);
const keysFile = join(dir, 'keys.json');
const keys = await loadOrCreateKeySet(keysFile);
const dbFile = join(dir, 'gatehouse.db');
const sealer = new Sealer(() => keys);
const now = Date.now();
const start = now + 15_000 + BASELINE_S * 1000; // the first refresh is due here: start-up and baseline before it
const seeding = performance.now();
{
  const store = await openSqliteStore(dbFile);
  const sessions = [];
  for (let i = 0; i < N; i++) {
    const sub = `u${i}`;
    const user = userOf(sub);
    sessions.push({
      id: `s-${i}`,
      kind: 'session',
      userId: sub,
      email: user.email,
      name: user.name,
      idp: 'corp',
      issuer: 'gatehouse',
      groups: user.groups,
      amr: ['oidc'],
      claims: { sub, email: user.email, name: user.name, groups: user.groups, idp: 'corp', amr: ['oidc'], iss: 'gatehouse', aud: 'gatehouse', jti: `s-${i}`, iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 43_200 },
      network: { loginIp: '192.0.2.10', loginUserAgent: 'bench', loginCountry: null, lastIp: '192.0.2.10', lastUserAgent: 'bench' },
      device: { certSubject: null, certFingerprint: null },
      issuedAt: now,
      expiresAt: now + 43_200_000,
      firstSeenAt: now,
      lastSeenAt: now,
      loginId: null,
      idpSid: null,
    });
  }
  await store.writeBatch({ sessions, activity: [], decisions: [] });
  // In use (seen after the last attempt), next refresh spread evenly over one period from `start`.
  const put = store.db.prepare(`INSERT INTO session_refresh (session_id, idp, sealed, next_at, last_attempt_at, last_ok_at, stale_at, failing_since, lease_until)
    VALUES (?, 'corp', ?, ?, ?, ?, ?, NULL, 0)`);
  store.db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const id = `s-${i}`;
      put.run(id, sealer.seal('refresh token', `rt-u${i}.seed`, id), start + Math.floor((i * PERIOD_S * 1000) / N), now - 1, now - 1, now + 3_600_000);
    }
  })();
  await store.close();
}
const seededMs = performance.now() - seeding;

// ---------------------------------------------------------------- the gateway process
const [data, admin] = [await freePort(), await freePort()];
writeFileSync(
  join(dir, 'gateway.yaml'),
  [
    `listen: 127.0.0.1:${data}`,
    `admin: {listen: 127.0.0.1:${admin}}`,
    `session: {cookie: s, keys: ${keysFile}, secure_cookie: false}`,
    `store: {sqlite: ${dbFile}}`,
    `apps: ${join(dir, 'apps')}`,
    'log: {level: warn}',
    'identity_providers:',
    `  - {id: corp, type: oidc, issuer: "${issuer}", client_id: ${CLIENT_ID}, client_secret: ${CLIENT_SECRET}, scopes: [openid, email, profile, groups], refresh: ${PERIOD_S}s}`,
    '',
  ].join('\n'),
);
// BENCH_CPU_PROF=dir: the gateway writes a V8 CPU profile there (node --cpu-prof) when it stops.
const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
const gw = startService('gatehouse', process.execPath, [...profile, join(REPO_DIR, 'dist', 'cli.js'), 'start', '--config', join(dir, 'gateway.yaml')], { cwd: dir });
const refreshed = async () => {
  const { text } = await httpGetText(`http://127.0.0.1:${admin}/metrics`);
  const out = {};
  for (const m of text.matchAll(/^gatehouse_identity_refreshes_total\{idp="corp",outcome="(\w+)"\} (\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
};
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
try {
  await waitForPort(admin, 30_000, '127.0.0.1', () => !gw.exited);
  const untilDue = start - Date.now() - BASELINE_S * 1000 - 1000;
  if (untilDue < 0) throw new Error('the gateway took too long to start: no idle baseline before the first refresh is due');
  await sleep(untilDue);
  // Idle baseline: the same process with its timers, nothing due yet.
  let c0 = cpuSeconds(gw.pid);
  await sleep(BASELINE_S * 1000);
  const idle = cpuSeconds(gw.pid) - c0;
  if (sum(await refreshed()) !== 0) throw new Error('refreshes ran during the baseline');
  await sleep(Math.max(0, start - Date.now()));
  // Steady state: N / period refreshes per second.
  const r0 = await refreshed();
  c0 = cpuSeconds(gw.pid);
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const busy = cpuSeconds(gw.pid) - c0;
  const elapsed = (performance.now() - t0) / 1000;
  const r1 = await refreshed();
  const done = sum(r1) - sum(r0);
  const expected = (N * elapsed) / PERIOD_S;
  const share = busy / elapsed;
  const idleShare = idle / BASELINE_S;
  const perRefreshMs = ((busy - idleShare * elapsed) / done) * 1000;
  const outcomes = Object.entries(r1).map(([k, v]) => `${k} ${v - (r0[k] ?? 0)}`).join(', ');
  console.log(`Identity refresh load: ${N} live sessions, refresh every ${PERIOD_S} s (${(N / PERIOD_S).toFixed(1)}/s), gateway on SQLite, IdP: minimal OIDC server (ES256 ID token, userinfo)`);
  console.log(`  seeded in ${(seededMs / 1000).toFixed(1)} s; window ${elapsed.toFixed(1)} s of the steady state: ${done} refreshes (expected ≈ ${expected.toFixed(0)}; ${outcomes}); IdP answered ${counts.token} token + ${counts.userinfo} userinfo requests, refused ${counts.refused}`);
  console.log(`  gateway CPU: ${busy.toFixed(2)} s in the window → ${(share * 100).toFixed(2)} % of one core (idle baseline ${(idleShare * 100).toFixed(2)} %; refresh alone ${((share - idleShare) * 100).toFixed(2)} %); ${perRefreshMs.toFixed(2)} ms CPU per refresh`);
  console.log(`  target < 2 % of one core: ${share < 0.02 ? 'met' : 'NOT met'} (${(share * 100).toFixed(2)} % including the idle baseline)`);
} finally {
  await gw.stop();
  idp.close();
  rmSync(dir, { recursive: true, force: true });
}
