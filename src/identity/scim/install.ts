// Mounts SCIM 2.0 on the admin listener (/scim/v2) with its own tokens, reloaded with the config.
// Needs only what it uses: the store, the config, the admin router and the identity core.
import { AdminTokens, type AdminRouter } from '../../admin/server.js';
import type { GatewayConfig } from '../../config/types.js';
import type { Logger } from '../../log.js';
import type { ScimStore } from '../../store/scim-types.js';
import type { IdentityChanges } from '../changes.js';
import { LiveEffects } from './effects.js';
import { createScimHandler, SCIM_PREFIX } from './routes.js';

export interface ScimHost {
  readonly identityChanges: IdentityChanges;
  readonly store: { readonly scim: ScimStore };
  readonly logger: Logger;
  readonly adminRouter: Pick<AdminRouter, 'mount'>;
  readonly configs: { readonly current: GatewayConfig; on(event: 'reload', listener: (next: GatewayConfig) => void): unknown };
}

export async function installScim(host: ScimHost): Promise<void> {
  let tokens = await AdminTokens.load(host.configs.current.scim.tokensFile, process.env, 'GATEHOUSE_SCIM_TOKEN');
  host.configs.on('reload', (next) => {
    AdminTokens.load(next.scim.tokensFile, process.env, 'GATEHOUSE_SCIM_TOKEN').then(
      (t) => (tokens = t),
      (err: unknown) => host.logger.error({ err, file: next.scim.tokensFile }, 'SCIM tokens not reloaded; the previous ones stay'),
    );
  });
  const effects = new LiveEffects(host.identityChanges, host.store.scim, () => host.configs.current.scim.groups);
  const handle = createScimHandler({ store: host.store.scim, effects, tokens: () => tokens, logger: host.logger });
  host.adminRouter.mount(SCIM_PREFIX, handle);
}
