// Host + longest path prefix → app. Built once per config snapshot (cached by identity of the
// config object), so a request costs a Map lookup and a short prefix scan.
import type { AppConfig, GatewayConfig } from '../config/types.js';

interface Route {
  prefix: string;
  app: AppConfig;
}

export class Router {
  private readonly exact = new Map<string, Route[]>();
  /** [".corp.example", routes] sorted longest suffix first. */
  private readonly wildcards: Array<[string, Route[]]> = [];

  constructor(apps: readonly AppConfig[]) {
    const wild = new Map<string, Route[]>();
    for (const app of apps) {
      for (const host of app.hosts) {
        // The config gives wildcards as suffixes: `*.corp.example` → ".corp.example".
        const isWild = host.startsWith('.');
        const key = host;
        const table = isWild ? wild : this.exact;
        let routes = table.get(key);
        if (!routes) table.set(key, (routes = []));
        for (const prefix of app.paths) routes.push({ prefix, app });
      }
    }
    for (const routes of [...this.exact.values(), ...wild.values()]) {
      routes.sort((a, b) => b.prefix.length - a.prefix.length);
    }
    this.wildcards = [...wild.entries()].sort((a, b) => b[0].length - a[0].length);
  }

  /** The app serving host+path, or undefined. Exact hosts win over wildcards. */
  match(host: string, path: string): AppConfig | undefined {
    const exact = this.exact.get(host);
    if (exact) {
      const app = longestPrefix(exact, path);
      if (app) return app;
    }
    for (const [suffix, routes] of this.wildcards) {
      if (host.endsWith(suffix) && host.length > suffix.length) {
        const app = longestPrefix(routes, path);
        if (app) return app;
      }
    }
    return undefined;
  }

  /** Any app on this host (for /.gatehouse/* endpoints, which live on every app host). */
  hostApp(host: string): AppConfig | undefined {
    const exact = this.exact.get(host);
    if (exact && exact.length > 0) return (exact[exact.length - 1] as Route).app;
    for (const [suffix, routes] of this.wildcards) {
      if (host.endsWith(suffix) && host.length > suffix.length && routes.length > 0) {
        return (routes[routes.length - 1] as Route).app;
      }
    }
    return undefined;
  }

  /** Is this host served by some app? (Login redirects may only go to such hosts.) */
  serves(host: string): boolean {
    return this.hostApp(host) !== undefined;
  }
}

function longestPrefix(routes: Route[], path: string): AppConfig | undefined {
  for (const r of routes) {
    if (prefixMatches(r.prefix, path)) return r.app;
  }
  return undefined;
}

/** "/api" matches "/api" and "/api/x" but not "/apix"; "/api/" and "/" match by plain prefix. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (prefix.endsWith('/') || path.length === prefix.length) return true;
  return path.charCodeAt(prefix.length) === 47;
}

const routers = new WeakMap<GatewayConfig, Router>();

export function routerFor(config: GatewayConfig): Router {
  let r = routers.get(config);
  if (!r) routers.set(config, (r = new Router(config.apps)));
  return r;
}
