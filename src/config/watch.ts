// ConfigManager: the running configuration and its hot reload. It watches the directories of
// gateway.yaml and of the apps (directories, so that editors' rename-on-save and new files are seen),
// debounces bursts of events, and swaps in a new frozen config only when the whole set validates.
// A failed reload keeps the last good config and records the problems. Settings that only take effect
// at start (listeners, TLS, workers, store, session keys) keep their running values until restart.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../log.js';
import { deepFreeze, loadConfig } from './load.js';
import { ConfigError, formatProblem, formatProblems, type ConfigProblem, type GatewayConfig } from './types.js';

export interface ConfigManagerOptions {
  /** Quiet time after the last file event before reloading (default 200 ms). */
  debounceMs?: number;
  /** Environment for ${NAME} substitution, read at every load (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Poll file stats instead of fs.watch (network filesystems); also the fallback when fs.watch fails. */
  poll?: boolean;
  /** Poll interval (default 1000 ms). */
  pollMs?: number;
}

export interface ReloadError {
  at: Date;
  problems: ConfigProblem[];
}

type Events = {
  reload: [next: GatewayConfig, prev: GatewayConfig];
  reloadFailed: [problems: ConfigProblem[]];
};

/** Settings read only at start, by name as written in gateway.yaml. */
export const RESTART_SETTINGS = ['listen', 'admin.listen', 'tls', 'workers', 'store', 'session.keys', 'limits.max_header_size'] as const;

const startValue: Record<(typeof RESTART_SETTINGS)[number], (c: GatewayConfig) => unknown> = {
  listen: (c) => c.listen,
  'admin.listen': (c) => c.admin.listen,
  tls: (c) => c.tls ?? null,
  workers: (c) => c.workers,
  store: (c) => c.store,
  'session.keys': (c) => c.session.keysFile,
  // Node's parser takes it when the listener is created; every other limit applies on reload.
  'limits.max_header_size': (c) => c.limits.maxHeaderSize,
};

export class ConfigManager extends EventEmitter<Events> {
  #current: GatewayConfig;
  readonly #boot: GatewayConfig;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollSig = '';
  #watchers: FSWatcher[] = [];
  #watchedAppsDir = '';
  #closed = false;

  /** The last failed reload, cleared by the next successful one. */
  lastError: ReloadError | null = null;
  reloads = 0;
  failedReloads = 0;
  /** Settings changed in the files that take effect only after a restart (running values are kept). */
  pendingRestart: string[] = [];

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly opts: Required<Omit<ConfigManagerOptions, 'env'>> & { env: NodeJS.ProcessEnv | undefined },
    initial: GatewayConfig,
  ) {
    super();
    this.#current = initial;
    this.#boot = initial;
  }

  /** Loads the configuration (throws ConfigError when it is invalid) and starts watching it. */
  static async start(file: string, logger: Logger, opts: ConfigManagerOptions = {}): Promise<ConfigManager> {
    const abs = resolve(file);
    const initial = await loadConfig(abs, opts.env ?? process.env);
    const m = new ConfigManager(abs, logger, { debounceMs: 200, poll: false, pollMs: 1000, ...opts, env: opts.env }, initial);
    await m.#watch();
    return m;
  }

  get current(): GatewayConfig {
    return this.#current;
  }

  /** Reload now (SIGHUP, admin API). Resolves true when the new config is running. Never rejects. */
  reload(reason: string): Promise<boolean> {
    return this.#enqueue(reason, false);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#pollTimer);
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }

  #enqueue(reason: string, fromWatch: boolean): Promise<boolean> {
    const run = this.#chain
      .then(() => this.#reload(reason, fromWatch))
      .catch((err: unknown) => {
        this.logger.error({ err, reason }, 'config reload crashed');
        return false;
      });
    this.#chain = run;
    return run;
  }

  async #reload(reason: string, fromWatch: boolean): Promise<boolean> {
    if (this.#closed) return false;
    let next: GatewayConfig;
    try {
      next = await loadConfig(this.file, this.opts.env ?? process.env);
    } catch (err) {
      const problems = err instanceof ConfigError ? err.problems : [{ file: basename(this.file), line: 1, col: 1, message: String(err) }];
      this.failedReloads++;
      this.lastError = { at: new Date(), problems };
      this.logger.error({ reason, problems: problems.map(formatProblem) }, `config reload failed (${reason}); still running config ${this.#current.hash}:\n${formatProblems(problems)}`);
      this.#emit('reloadFailed', problems);
      await this.#watch();
      return false;
    }
    this.lastError = null;
    // A file event that leaves the files as they are (touch, an editor's temp file) changes nothing.
    if (fromWatch && next.hash === this.#current.hash) return true;
    const prev = this.#current;
    this.pendingRestart = RESTART_SETTINGS.filter((k) => JSON.stringify(startValue[k](next)) !== JSON.stringify(startValue[k](this.#boot)));
    for (const setting of this.pendingRestart) {
      this.logger.warn({ setting }, `config: ${setting} changed and requires restart; running with the previous value until then`);
    }
    this.#current = this.pendingRestart.length ? keepStartSettings(next, this.#boot) : next;
    this.reloads++;
    this.logger.info({ reason, hash: next.hash, apps: next.apps.length }, 'config reloaded');
    await this.#watch();
    this.#emit('reload', this.#current, prev);
    return true;
  }

  #emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    try {
      (this.emit as (e: K, ...a: Events[K]) => boolean)(event, ...args);
    } catch (err) {
      this.logger.error({ err }, `config ${event} listener failed`);
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#enqueue('file change', true), this.opts.debounceMs);
  }

  /** (Re)starts watching when the apps directory changed (or nothing is watched yet). */
  async #watch(): Promise<void> {
    const appsDir = this.#current.appsDir;
    if (this.#closed || (appsDir === this.#watchedAppsDir && (this.#watchers.length || this.#pollTimer))) return;
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    this.#watchedAppsDir = appsDir;
    const gwDir = dirname(this.file);
    const gwName = basename(this.file);
    const isApp = (f: string) => /\.ya?ml$/.test(f);
    if (!this.opts.poll) {
      try {
        const on = (dir: string, relevant: (f: string) => boolean) => {
          const w = watch(dir, (_event, f) => {
            if (f === null || relevant(f.toString())) this.#schedule();
          });
          w.on('error', (err) => this.#fallBackToPolling(err));
          this.#watchers.push(w);
        };
        if (gwDir === appsDir) on(gwDir, (f) => f === gwName || isApp(f));
        else {
          on(gwDir, (f) => f === gwName);
          on(appsDir, isApp);
        }
        return;
      } catch (err) {
        this.#fallBackToPolling(err);
        return;
      }
    }
    await this.#startPolling();
  }

  #fallBackToPolling(err: unknown): void {
    if (this.#closed || this.#pollTimer) return;
    this.logger.warn({ err }, 'config: fs.watch failed; polling the config files instead');
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    void this.#startPolling();
  }

  async #startPolling(): Promise<void> {
    clearInterval(this.#pollTimer);
    this.#pollSig = await this.#signature();
    this.#pollTimer = setInterval(() => {
      void this.#signature().then((sig) => {
        if (sig === this.#pollSig) return;
        this.#pollSig = sig;
        this.#schedule();
      });
    }, this.opts.pollMs);
  }

  /** Names, sizes and mtimes of gateway.yaml and the app files: changes when any of them does. */
  async #signature(): Promise<string> {
    const one = async (f: string) => stat(f).then((s) => `${f}:${s.size}:${s.mtimeMs}`, () => `${f}:-`);
    const dir = this.#current.appsDir;
    const names = await readdir(dir).catch(() => [] as string[]);
    const parts = await Promise.all([this.file, ...names.filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => resolve(dir, n))].map(one));
    return parts.join('\n');
  }
}

/** The new config, with the settings that need a restart kept at their running values. */
function keepStartSettings(next: GatewayConfig, boot: GatewayConfig): GatewayConfig {
  const merged: GatewayConfig = {
    ...next,
    listen: boot.listen,
    admin: { ...next.admin, listen: boot.admin.listen },
    workers: boot.workers,
    store: boot.store,
    session: { ...next.session, keysFile: boot.session.keysFile },
    limits: { ...next.limits, maxHeaderSize: boot.limits.maxHeaderSize },
    publicScheme: boot.tls ? 'https' : next.tls ? boot.publicScheme : next.publicScheme,
  };
  if (boot.tls) merged.tls = boot.tls;
  else delete merged.tls;
  return deepFreeze(merged);
}
