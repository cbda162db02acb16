// Wires devices into a gateway: the device pages on every app host (in front of the login
// endpoints, which must be installed first), and the device admin routes. Needs the store's
// devices, the identity core (IdentityChanges) and the signing keys (sealed WebAuthn challenges).
import type { AdminRouter } from '../admin/server.js';
import type { GatewayConfig } from '../config/types.js';
import type { IdentityChanges } from '../identity/changes.js';
import type { Logger } from '../log.js';
import { Sealer } from '../login/seal.js';
import type { GatehouseEndpoints, Services } from '../pipeline/services.js';
import type { DeviceStore } from '../store/device-types.js';
import { registerDeviceAdmin } from './admin.js';
import { DeviceEndpoints } from './endpoints.js';
import { Devices } from './service.js';
import { WebAuthn } from './webauthn.js';

export interface DevicesHost {
  readonly logger: Logger;
  readonly configs: { readonly current: GatewayConfig; on(event: 'reload', listener: (next: GatewayConfig) => void): unknown };
  readonly store: { readonly devices: DeviceStore };
  readonly identityChanges: IdentityChanges;
  readonly adminRouter: AdminRouter;
  /** Read at each use: a reloaded key file replaces the keys; endpoints are the login module's. */
  readonly services: Pick<Services, 'keys' | 'endpoints'>;
  setEndpoints(endpoints: GatehouseEndpoints): void;
}

export async function installDevices(g: DevicesHost): Promise<Devices> {
  const devices = new Devices(g);
  const webauthn = new WebAuthn(new Sealer(() => g.services.keys));
  g.setEndpoints(new DeviceEndpoints(devices, webauthn, g.services.endpoints, g.logger));
  await registerDeviceAdmin(g, devices);
  return devices;
}
