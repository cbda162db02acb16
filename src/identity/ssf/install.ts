// Serves the configured Shared Signals receivers (ssf_receivers) on the data listener under
// /.gatehouse/ssf/. Each receiver's transmitter keys are loaded at start and on a config reload
// that changes the receiver; an unchanged receiver keeps its keys (and its JWKS refresh timer).
import type { ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { GatewayConfig, SsfReceiverConfig } from '../../config/types.js';
import type { RequestContext } from '../../context.js';
import type { Logger } from '../../log.js';
import type { EventStore } from '../../store/event-types.js';
import type { IdentityChanges } from '../changes.js';
import { identityEventCounter } from '../metrics.js';
import { transmitterKeys, type RemoteKeysFactory, type TransmitterKeys } from './keys.js';
import { SsfReceiver, type SsfDeps } from './receiver.js';
import type { DeviceCompliance } from './device-compliance.js';

export interface SsfHost {
  readonly identityChanges: IdentityChanges;
  readonly store: { readonly events: EventStore };
  readonly writer: SsfDeps['writer'];
  readonly logger: Logger;
  readonly services: { readonly metrics: { readonly registry: Registry } };
  readonly configs: { readonly current: GatewayConfig; on(event: 'reload', listener: (next: GatewayConfig) => void): unknown };
  /** Serves every request under `prefix` (pipeline/services.ts GatehouseReceiver). */
  addReceiver(receiver: { readonly prefix: string; handle(ctx: RequestContext, res: ServerResponse): Promise<void> }): void;
  onClose(hook: () => unknown): void;
}

interface Loaded {
  cfg: SsfReceiverConfig;
  fingerprint: string;
  keys: TransmitterKeys;
}

/**
 * `remoteKeys`: how a jwks_uri is fetched (the gateway hands in auth/remote-jwks.ts); `devices`:
 * Gatehouse's devices (installDevices), whose `compliant` fact device-compliance-change sets.
 */
export async function installSsf(host: SsfHost, remoteKeys: RemoteKeysFactory, devices?: DeviceCompliance): Promise<void> {
  let loaded = new Map<string, Loaded>();
  const load = async (receivers: SsfReceiverConfig[]): Promise<void> => {
    const next = new Map<string, Loaded>();
    for (const cfg of receivers) {
      const fingerprint = JSON.stringify(cfg);
      const same = loaded.get(cfg.id);
      if (same?.fingerprint === fingerprint) next.set(cfg.id, same);
      else {
        try {
          next.set(cfg.id, { cfg, fingerprint, keys: await transmitterKeys(cfg, remoteKeys) });
        } catch (err) {
          // A receiver whose keys cannot be read refuses every SET (fail closed) until a reload fixes it.
          host.logger.error({ err, receiver: cfg.id }, 'ssf: the transmitter keys cannot be loaded; its SETs are refused');
        }
      }
    }
    for (const [id, old] of loaded) if (next.get(id) !== old) old.keys.close();
    loaded = next;
  };
  await load(host.configs.current.ssfReceivers);
  host.configs.on('reload', (next) => void load(next.ssfReceivers));
  host.onClose(() => {
    for (const r of loaded.values()) r.keys.close();
  });
  host.addReceiver(
    new SsfReceiver({
      changes: host.identityChanges,
      events: host.store.events,
      writer: host.writer,
      logger: host.logger,
      counter: identityEventCounter(host.services.metrics),
      receiver: (id) => loaded.get(id),
      ...(devices ? { devices } : {}),
    }),
  );
}
