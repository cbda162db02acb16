// Operational endpoints on the admin listener: liveness, readiness, metrics, config status.
import type { ConfigManager } from '../config/watch.js';
import { formatProblem, type AppConfig } from '../config/types.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/types.js';
import type { RecordWriter } from '../audit/writer.js';
import type { Authenticator } from '../auth/authenticator.js';
import { AdminRouter, RawResponse } from './server.js';

export interface OpsDeps {
  configs: ConfigManager;
  metrics: Metrics;
  store: Store;
  writer: RecordWriter;
  authenticator: Authenticator;
  startedAt: Date;
  /** True once shutdown began: /readyz fails so load balancers move traffic away first. */
  draining(): boolean;
}

export function registerOps(router: AdminRouter, d: OpsDeps): void {
  router.add('GET /healthz', () => ({ status: 'ok', uptime_s: Math.round((Date.now() - d.startedAt.getTime()) / 1000) }));

  router.add('GET /readyz', async () => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    if (d.draining()) checks.draining = { ok: false, detail: 'shutting down: finishing in-flight requests' };
    checks.config = { ok: true, detail: `hash ${d.configs.current.hash}` };
    try {
      await d.store.ping();
      const w = d.writer.stats();
      checks.store = w.healthy ? { ok: true } : { ok: false, detail: `writes failing: ${w.lastError ?? 'unknown'}; ${w.queued} records waiting` };
    } catch (err) {
      checks.store = { ok: false, detail: (err as Error).message };
    }
    for (const i of d.authenticator.status()) {
      checks[`issuer:${i.issuer}`] = i.ready
        ? { ok: true, ...(i.stale ? { detail: `serving last good key set; last error: ${i.lastError ?? 'none'}` } : {}) }
        : { ok: false, detail: `no key set: ${i.lastError ?? 'not fetched yet'}` };
    }
    const ready = Object.values(checks).every((c) => c.ok);
    if (!ready) return new RawResponse(503, 'application/json', JSON.stringify({ ready, checks }, null, 2) + '\n');
    return { ready, checks };
  });

  router.add('GET /metrics', async () => new RawResponse(200, d.metrics.registry.contentType, await d.metrics.text()));

  router.add('GET /admin/config', () => {
    const c = d.configs.current;
    const err = d.configs.lastError;
    return {
      hash: c.hash,
      loaded_at: c.loadedAt.toISOString(),
      file: c.file,
      apps: c.apps.map((a) => ({ name: a.name, hosts: a.hosts, paths: a.paths, upstream: a.upstream?.href ?? null, mode: modeNames(a), file: a.file, policies: a.policies })),
      reloads: d.configs.reloads,
      failed_reloads: d.configs.failedReloads,
      last_reload_error: err ? { at: err.at.toISOString(), problems: err.problems.map(formatProblem) } : null,
      pending_restart: d.configs.pendingRestart,
      redact_claims: c.audit.redactClaims,
    };
  });
}

/** An app's `mode` as the config spells it. */
function modeNames(app: AppConfig): string[] {
  return [...(app.modes.proxy ? ['proxy'] : []), ...(app.modes.forwardAuth ? ['forward_auth'] : [])];
}
