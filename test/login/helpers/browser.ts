// A tiny cookie-keeping HTTP client for walking sign-in flows: one jar per "browser", redirects
// followed by hand (or by navigate()), host names resolved to local ports like curl --resolve.
import http from 'node:http';
import { parseSetCookie } from 'cookie';

export interface Page {
  url: URL;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Absolute Location, when the response is a redirect. */
  location?: URL;
}

interface Jarred {
  value: string;
  /** Host the cookie came from (host-only), or a Domain attribute (with subdomains). */
  host: string;
  domain: boolean;
  path: string;
  expires: number;
}

export class Browser {
  /** Every cookie, newest wins per (name, host/domain, path). */
  readonly jar: Jarred[] = [];
  private named = new Map<Jarred, string>();

  constructor(
    /** host name → port on 127.0.0.1 (hosts with an explicit 127.0.0.1:port need no entry). */
    private readonly resolve: Record<string, number> = {},
    private readonly userAgent = 'gatehouse-test-browser/1.0',
  ) {}

  cookie(name: string, host: string): string | undefined {
    return this.cookiesFor(new URL(`http://${host}/`)).find(([n]) => n === name)?.[1];
  }

  setCookie(name: string, value: string, host: string, path = '/'): void {
    this.store(name, { value, host, domain: false, path, expires: Infinity });
  }

  clearCookies(): void {
    this.jar.length = 0;
    this.named.clear();
  }

  private store(name: string, c: Jarred): void {
    for (const [old, n] of this.named) {
      if (n === name && old.host === c.host && old.domain === c.domain && old.path === c.path) {
        this.jar.splice(this.jar.indexOf(old), 1);
        this.named.delete(old);
      }
    }
    if (c.expires <= Date.now() || c.value === '') return;
    this.jar.push(c);
    this.named.set(c, name);
  }

  private cookiesFor(url: URL): Array<[string, string]> {
    const host = url.hostname;
    const out: Array<[string, string]> = [];
    for (const c of this.jar) {
      if (c.expires <= Date.now()) continue;
      const hostOk = c.domain ? host === c.host || host.endsWith(`.${c.host}`) : host === c.host;
      if (hostOk && url.pathname.startsWith(c.path)) out.push([this.named.get(c) as string, c.value]);
    }
    return out;
  }

  private remember(url: URL, setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const sc = parseSetCookie(line);
      const expires = sc.maxAge !== undefined ? Date.now() + sc.maxAge * 1000 : sc.expires ? sc.expires.getTime() : Infinity;
      const domain = sc.domain?.replace(/^\./, '').toLowerCase();
      this.store(sc.name, { value: sc.value ?? '', host: domain ?? url.hostname, domain: domain !== undefined, path: sc.path ?? '/', expires });
    }
  }

  /** One request; cookies sent and stored; no redirect followed. */
  request(target: string | URL, opts: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const url = new URL(target);
    const port = url.port ? Number(url.port) : this.resolve[url.hostname];
    if (port === undefined) throw new Error(`no port for ${url.host}`);
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    const cookies = this.cookiesFor(url).map(([n, v]) => `${n}=${v}`).join('; ');
    const headers: Record<string, string> = {
      host: url.host,
      'user-agent': this.userAgent,
      accept: 'text/html,application/xhtml+xml',
      ...(cookies ? { cookie: cookies } : {}),
      ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}),
      ...(opts.headers ?? {}),
    };
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? (body !== undefined ? 'POST' : 'GET'), path: url.pathname + url.search, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'];
          this.remember(url, setCookie);
          const loc = res.headers.location;
          resolve({
            url,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(loc ? { location: new URL(loc, url) } : {}),
          });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Follows redirects (at most `max`); returns every response on the way, the final one last. */
  async navigate(target: string | URL, opts: { form?: Record<string, string>; max?: number; stopAt?: (u: URL) => boolean } = {}): Promise<Page[]> {
    const pages: Page[] = [];
    let page = await this.request(target, opts.form ? { form: opts.form } : {});
    pages.push(page);
    for (let i = 0; page.location && i < (opts.max ?? 15); i++) {
      if (opts.stopAt?.(page.location)) break;
      page = await this.request(page.location);
      pages.push(page);
    }
    return pages;
  }
}

/** The action URL and fields of the first form in an HTML page (inputs with a name). */
export function parseForm(html: string, base: URL): { action: URL; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error(`no form in page: ${html.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of (form[2] as string).matchAll(/<input[^>]*>/gi)) {
    const name = /name="([^"]*)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
    if (name) fields[name] = unescapeHtml(value);
  }
  return { action: new URL(unescapeHtml(form[1] as string), base), fields };
}

export function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
