// The startup banner (log.format: pretty, the default on a terminal): where the apps are, where the
// admin API is, and — the one time it is generated — the admin token. With JSON logs there is no
// banner, and the token is never written to the log: only where to read it.
import { relative } from 'node:path';
import type { GatewayConfig } from './config/types.js';

export interface BannerFacts {
  config: GatewayConfig;
  /** The data listener's port as bound (it differs from the config's when that says 0). */
  dataPort: number;
  adminUrl: string | null;
  /** The admin token, only when this start generated it. */
  newToken: string | null;
  /** The demo's credentials (`npm start`), printed with it. */
  demoUser: { email: string; password: string } | null;
  workers: number;
}

export function banner(f: BannerFacts): string {
  const { config } = f;
  const scheme = config.tls ? 'https' : 'http';
  const port = (scheme === 'http' && f.dataPort === 80) || (scheme === 'https' && f.dataPort === 443) ? '' : `:${f.dataPort}`;
  const rows: Array<[string, string]> = [];
  const apps = config.apps.map((app) => {
    const host = app.hosts.find((h) => !h.startsWith('.')) ?? `*${app.hosts[0] ?? ''}`;
    const bypass = app.policies.length > 0 && app.policies.every((p) => p.action === 'bypass');
    return { url: `${scheme}://${host}${port}${app.paths[0] ?? '/'}`, what: `${app.name}${bypass ? ' (no sign-in)' : ''}` };
  });
  const urlWidth = Math.max(0, ...apps.map((a) => a.url.length)) + 2;
  apps.forEach((a, i) => rows.push([i === 0 ? 'Apps' : '', a.url.padEnd(urlWidth) + a.what]));
  if (!config.apps.length) rows.push(['Apps', `none yet: add a file to ${shortPath(config.appsDir)}/`]);
  if (f.demoUser) rows.push(['Demo user', `${f.demoUser.email} / ${f.demoUser.password}`]);
  if (f.adminUrl) rows.push(['Admin API', f.adminUrl]);
  const tokens = config.admin.tokensFile;
  if (f.newToken && tokens) rows.push(['Admin token', `${f.newToken}   (new; saved in ${shortPath(tokens)}, shown only this once)`]);
  else if (tokens) rows.push(['Admin token', `export GATEHOUSE_ADMIN_TOKEN=$(cat ${shortPath(tokens)})`]);
  else if (!process.env.GATEHOUSE_ADMIN_TOKEN) rows.push(['Admin token', 'none: set GATEHOUSE_ADMIN_TOKEN or admin.tokens_file to use the admin API']);
  const width = Math.max(...rows.map(([k]) => k.length)) + 3;
  const title = `Gatehouse is running on ${shortPath(config.file)}${f.workers > 1 ? ` with ${f.workers} workers` : ''}`;
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}${v}`);
  return `\n  ${title}\n\n${lines.join('\n')}\n\n  Stop with Ctrl-C. The log follows.\n\n`;
}

/** The token's file as a person would type it from here. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
