// The identity providers of each config snapshot. A provider whose configuration did not change
// survives a reload (its discovery result, users file watcher and TOTP replay guard stay); changed
// or removed ones are closed. Lookups are synchronous: a snapshot's providers are built on first use.
import { EventEmitter } from 'node:events';
import type { AppConfig, GatewayConfig, IdentityProviderConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { LocalProvider } from './local.js';
import type { LocalUser } from './users-file.js';
import { OidcProvider } from './oidc.js';
import type { SignInState } from '../store/types.js';
import type { LoginThrottle } from './throttle.js';

export type Provider = OidcProvider | LocalProvider;

type Users = ReadonlyMap<string, LocalUser>;

/** `usersChanged`: a local_users provider's file changed (the composition root applies it to live sessions). */
export class ProviderRegistry extends EventEmitter<{ usersChanged: [providerId: string, before: Users, after: Users] }> {
  private live = new Map<string, Provider>();
  private readonly snapshots = new WeakMap<GatewayConfig, Map<string, Provider>>();
  private readonly starting = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    private readonly throttle: LoginThrottle,
    private readonly state: SignInState,
  ) {
    super();
  }

  /** Provider id → provider for this config snapshot. */
  providersFor(config: GatewayConfig): Map<string, Provider> {
    let map = this.snapshots.get(config);
    if (map) return map;
    map = new Map();
    const next = new Map<string, Provider>();
    for (const cfg of config.identityProviders) {
      const fp = JSON.stringify(cfg);
      let p = this.live.get(fp);
      if (!p) p = this.create(cfg);
      next.set(fp, p);
      map.set(cfg.id, p);
    }
    for (const [fp, p] of this.live) if (!next.has(fp)) p.close();
    this.live = next;
    this.throttle.configure(config.login);
    this.snapshots.set(config, map);
    return map;
  }

  get(config: GatewayConfig, id: string | undefined): Provider | undefined {
    return id === undefined ? undefined : this.providersFor(config).get(id);
  }

  /** The providers offered for an app: all of them, or those its identity_providers lists. */
  allowed(config: GatewayConfig, app: AppConfig | undefined): IdentityProviderConfig[] {
    const only = app?.identityProviders;
    return only ? config.identityProviders.filter((p) => only.includes(p.id)) : config.identityProviders;
  }

  /** Resolves when every provider created so far has finished its first load. */
  async ready(): Promise<void> {
    await Promise.all([...this.starting]);
  }

  close(): void {
    for (const p of this.live.values()) p.close();
    this.live.clear();
  }

  private create(cfg: IdentityProviderConfig): Provider {
    if (cfg.type === 'oidc') {
      const p = new OidcProvider(cfg, this.logger);
      p.start();
      return p;
    }
    const p = new LocalProvider(cfg, this.throttle, this.logger, this.state);
    p.users.on('changed', (before, after) => this.emit('usersChanged', cfg.id, before, after));
    const started = p.start().catch((err: unknown) => this.logger.error({ err, idp: cfg.id }, 'users file could not be loaded'));
    this.starting.add(started);
    void started.finally(() => this.starting.delete(started));
    return p;
  }
}
