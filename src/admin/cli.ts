// `gatehouse sessions|users|decisions|policy-test`: thin clients of the admin API. They read
// GATEHOUSE_ADMIN_URL (default http://127.0.0.1:9901) and GATEHOUSE_ADMIN_TOKEN, print tables by
// default and the API's JSON with --json. Exit codes: 0 ok, 1 the API said no (or is unreachable),
// 2 bad usage.
import { readFile } from 'node:fs/promises';
import { parseCommandArgs, reportUsage, UsageError, type Options, type Values } from '../cli-args.js';
import { DECISION_COLUMNS, SESSION_COLUMNS, explanation, notRecordedText, sessionText, table, userText, whatIf, type Row } from './cli-format.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9901';

const USAGE: Record<string, string> = {
  sessions: 'gatehouse sessions list [--email E] [--user SUB] [--app A] [--active] [--limit N] [--cursor C] | show ID | revoke ID [--reason R]',
  users: 'gatehouse users list [--limit N] [--cursor C] | show EMAIL | logout EMAIL [--reason R]',
  decisions: 'gatehouse decisions [--request-id ID] [--email E] [--app A] [--outcome O] [--since 1h] [--session-id ID] [--limit N] [--cursor C]',
  login: 'gatehouse login lockouts [list] | login lockouts lift user|ip KEY',
  'policy-test': 'gatehouse policy-test --app APP (--email E | --session-id ID | --identity JSON | --file APP.yaml [--since 24h]) [--ip IP] [--country CC]',
};
const COMMON = '\nAll read GATEHOUSE_ADMIN_URL (default ' + DEFAULT_ADMIN_URL + ') and GATEHOUSE_ADMIN_TOKEN; --json prints the API answer as JSON.\n';

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const BASE: Options = { json: bool, help: { type: 'boolean', short: 'h' } };

interface Ctx {
  values: Values;
  positionals: string[];
  out(text: string): void;
}

export async function runAdminCommand(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const spec = COMMANDS[command];
  if (!spec) {
    console.error(`gatehouse: unknown admin command "${command}"`);
    return 2;
  }
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseCommandArgs(args, { ...BASE, ...spec.options }, true);
  } catch (err) {
    return reportUsage(command, err as UsageError, USAGE[command] as string);
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${USAGE[command]}\n${COMMON}`);
    return 0;
  }
  const api = new AdminClient(env.GATEHOUSE_ADMIN_URL || DEFAULT_ADMIN_URL, env.GATEHOUSE_ADMIN_TOKEN);
  const ctx: Ctx = { ...parsed, out: (text) => void process.stdout.write(text) };
  try {
    const answer = await spec.run(api, ctx);
    if (parsed.values.json) ctx.out(JSON.stringify(answer.body, null, 2) + '\n');
    else ctx.out(answer.text);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(command, err, USAGE[command] as string);
    if (err instanceof ApiError) {
      if (parsed.values.json && err.body !== undefined) ctx.out(JSON.stringify(err.body, null, 2) + '\n');
      console.error(`gatehouse ${command}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

class ApiError extends Error {
  constructor(
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

class AdminClient {
  constructor(
    private readonly base: string,
    private readonly token: string | undefined,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<Row> {
    const url = this.base.replace(/\/+$/, '') + path;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(`cannot reach the admin API at ${this.base}: ${cause?.code ?? cause?.message ?? (err as Error).message} (set GATEHOUSE_ADMIN_URL)`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiError(`HTTP ${res.status} from ${url}: not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = json as { error?: string; param?: string; problems?: string[] };
      let msg = `HTTP ${res.status}: ${e.error ?? text.trim()}`;
      if (e.problems?.length) msg += '\n' + e.problems.map((p) => `  ${p}`).join('\n');
      if (res.status === 401 && !this.token) msg += ' (set GATEHOUSE_ADMIN_TOKEN)';
      throw new ApiError(msg, json);
    }
    return json as Row;
  }
}

interface Answer {
  body: unknown;
  text: string;
}

interface Command {
  options: Options;
  run(api: AdminClient, c: Ctx): Promise<Answer>;
}

/** ?a=1&b=2 from the given option values (option name → query name), skipping absent ones. */
function qs(values: Values, map: Record<string, string>): string {
  const p = new URLSearchParams();
  for (const [opt, name] of Object.entries(map)) {
    const v = values[opt];
    if (v === true) p.set(name, 'true');
    else if (typeof v === 'string') p.set(name, v);
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function one(c: Ctx, what: string): string {
  const v = c.positionals[1];
  if (v === undefined || c.positionals.length > 2) throw new UsageError(`expected exactly one ${what}`);
  return encodeURIComponent(v);
}

function more(next: unknown): string {
  return next ? `(more: --cursor ${String(next)})\n` : '';
}

const reasonBody = (c: Ctx) => (typeof c.values.reason === 'string' ? { reason: c.values.reason } : {});

const COMMANDS: Record<string, Command> = {
  sessions: {
    options: { email: str, user: str, app: str, active: bool, limit: str, cursor: str, reason: str },
    async run(api, c) {
      const sub = c.positionals[0] ?? 'list';
      if (sub === 'list') {
        const body = await api.call('GET', '/admin/sessions' + qs(c.values, { email: 'email', user: 'user', app: 'app', active: 'active', limit: 'limit', cursor: 'cursor' }));
        const rows = body.sessions as Row[];
        return { body, text: rows.length ? table(rows, SESSION_COLUMNS) + more(body.next_cursor) : 'no sessions\n' };
      }
      if (sub === 'show') {
        const s = await api.call('GET', `/admin/sessions/${one(c, 'session id')}`);
        return { body: s, text: sessionText(s) };
      }
      if (sub === 'revoke') {
        const body = await api.call('DELETE', `/admin/sessions/${one(c, 'session id')}`, reasonBody(c));
        return { body, text: `revoked session ${String(body.id)} at ${String(body.revoked_at)}\n` };
      }
      throw new UsageError(`unknown subcommand "${sub}"`);
    },
  },
  users: {
    options: { reason: str, limit: str, cursor: str },
    async run(api, c) {
      const sub = c.positionals[0] ?? 'list';
      if (sub === 'list') {
        const body = await api.call('GET', '/admin/users' + qs(c.values, { limit: 'limit', cursor: 'cursor' }));
        const rows = body.users as Row[];
        const text = rows.length ? table(rows, [['EMAIL', 'email'], ['NAME', 'name'], ['ACTIVE SESSIONS', 'active_sessions'], ['LAST SEEN', 'last_seen_at']]) + more(body.next_cursor) : 'no users\n';
        return { body, text };
      }
      if (sub === 'show') {
        const u = await api.call('GET', `/admin/users/${one(c, 'email')}`);
        return { body: u, text: userText(u) };
      }
      if (sub === 'logout') {
        const body = await api.call('DELETE', `/admin/users/${one(c, 'email')}/sessions`, reasonBody(c));
        const ids = body.revoked as string[];
        return { body, text: `revoked ${ids.length} session${ids.length === 1 ? '' : 's'} of ${String(body.email)}${ids.length ? ': ' + ids.join(', ') : ''}\n` };
      }
      throw new UsageError(`unknown subcommand "${sub}"`);
    },
  },
  decisions: {
    options: { 'request-id': str, email: str, app: str, outcome: str, since: str, 'session-id': str, limit: str, cursor: str },
    async run(api, c) {
      if (c.positionals.length) throw new UsageError(`unexpected argument "${c.positionals[0]}"`);
      const map = { 'request-id': 'request_id', email: 'email', app: 'app', outcome: 'outcome', since: 'since', 'session-id': 'session_id', limit: 'limit', cursor: 'cursor' };
      const body = await api.call('GET', '/admin/decisions' + qs(c.values, map));
      const rows = body.decisions as Row[];
      if (!rows.length) return { body, text: body.not_recorded ? notRecordedText(body.not_recorded as Row) : 'no decisions\n' };
      // Few rows (or one request asked for): show why, rule by rule.
      const detail = rows.length <= 3 ? rows.map((d) => `\n${String(d.request_id)}:\n` + (d.reasons as string[]).map((r) => `  ${r}`).join('\n') + '\n').join('') : '';
      return { body, text: table(rows, DECISION_COLUMNS) + detail + more(body.next_cursor) };
    },
  },
  login: {
    options: {},
    async run(api, c) {
      const [what, sub = 'list', kind, key, ...extra] = c.positionals;
      if (what !== 'lockouts') throw new UsageError(what === undefined ? 'missing subcommand' : `unknown subcommand "${what}"`);
      if (sub === 'list' && kind === undefined) {
        const body = await api.call('GET', '/admin/login/lockouts');
        const rows = body.lockouts as Row[];
        return { body, text: rows.length ? table(rows, [['KIND', 'kind'], ['KEY', 'key'], ['FAILURES', 'failures'], ['LOCKED UNTIL', 'until']]) : 'no lockouts\n' };
      }
      if (sub === 'lift' && (kind === 'user' || kind === 'ip') && key !== undefined && !extra.length) {
        const body = await api.call('DELETE', `/admin/login/lockouts/${kind}/${encodeURIComponent(key)}`);
        return { body, text: `lifted the lockout of ${kind} ${key}\n` };
      }
      throw new UsageError(sub === 'lift' ? 'expected: lift user|ip KEY' : `unknown subcommand "${sub}"`);
    },
  },
  'policy-test': {
    options: { app: str, email: str, 'session-id': str, identity: str, file: str, since: str, ip: str, country: str },
    async run(api, c) {
      const v = c.values;
      if (c.positionals.length) throw new UsageError(`unexpected argument "${c.positionals[0]}"`);
      const modes = ['email', 'session-id', 'identity', 'file'].filter((m) => v[m] !== undefined);
      if (modes.length !== 1) throw new UsageError('give exactly one of --email, --session-id, --identity or --file');
      if (v.file !== undefined) {
        const appYaml = await readFile(String(v.file), 'utf8').catch((err: Error) => {
          throw new UsageError(`cannot read ${String(v.file)}: ${err.message}`);
        });
        const body = await api.call('POST', '/admin/policy-test', { app_yaml: appYaml, since: v.since ?? '24h', ...(v.app ? { app: v.app } : {}) });
        return { body, text: whatIf(body) };
      }
      if (!v.app) throw new UsageError('--app is required');
      const req: Record<string, unknown> = { app: v.app };
      if (v.email !== undefined) req.email = v.email;
      if (v['session-id'] !== undefined) req.session_id = v['session-id'];
      if (v.identity !== undefined) {
        try {
          req.identity = JSON.parse(String(v.identity));
        } catch (err) {
          throw new UsageError(`--identity is not valid JSON: ${(err as Error).message}`);
        }
      }
      if (v.ip !== undefined) req.ip = v.ip;
      if (v.country !== undefined) req.country = v.country;
      const body = await api.call('POST', '/admin/policy-test', req);
      return { body, text: explanation(body) };
    },
  },
};
