// Devices on the admin listener: list (by state or owner), show, approve, revoke, and posture
// reports from an MDM or agent. Reports take the admin token or a posture token
// (posture.tokens_file, GATEHOUSE_POSTURE_TOKEN), so an agent never holds admin rights.
import type { IncomingMessage } from 'node:http';
import { AdminTokens, HttpError, type AdminRouter } from '../admin/server.js';
import { DEFAULT_POSTURE_MAX_AGE_MS } from '../policy/device-selectors.js';
import { BUILTIN_POSTURE_FACTS } from '../config/resolve-devices.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { MAX_REPORT_BYTES, parseReport, ReportError } from '../policy/posture-report.js';
import { presentDeviceRecord } from '../admin/present-device.js';
import { reasonOf } from '../admin/params.js';
import type { Devices } from './service.js';

/** Beyond this a report's body is not even drained: the connection is closed. */
const DRAIN_LIMIT = 4 * 1024 * 1024;

export interface DeviceAdminHost {
  readonly adminRouter: AdminRouter;
  readonly logger: Logger;
  readonly configs: { readonly current: GatewayConfig; on(event: 'reload', listener: (next: GatewayConfig) => void): unknown };
}

async function loadTokens(c: GatewayConfig): Promise<{ admin: AdminTokens; posture: AdminTokens }> {
  const [admin, posture] = await Promise.all([AdminTokens.load(c.admin.tokensFile), AdminTokens.load(c.posture?.tokensFile, process.env, 'GATEHOUSE_POSTURE_TOKEN')]);
  return { admin, posture };
}

export async function registerDeviceAdmin(h: DeviceAdminHost, devices: Devices): Promise<void> {
  let tokens = await loadTokens(h.configs.current);
  h.configs.on('reload', (next) => {
    loadTokens(next).then(
      (t) => (tokens = t),
      (err: unknown) => h.logger.error({ err }, 'posture tokens not reloaded; the previous ones stay'),
    );
  });
  const maxAge = () => h.configs.current.posture?.maxAgeMs ?? DEFAULT_POSTURE_MAX_AGE_MS;
  const known = async (id: string) => {
    const d = await devices.get(id);
    if (!d) throw new HttpError(404, `no device with id "${id}"`, 'id');
    return d;
  };
  const router = h.adminRouter;

  // state and owner are checked by the router (admin/routes.ts).
  router.add('GET /admin/devices', async ({ query }) => {
    const { state } = query;
    const owner = query.owner?.toLowerCase();
    const list = await devices.list({ ...(state ? { state } : {}), ...(owner ? { owner } : {}) });
    return { devices: list.map((d) => presentDeviceRecord(d, maxAge())) };
  });

  router.add('GET /admin/devices/:id', async ({ params }) => presentDeviceRecord(await known(params.id), maxAge()));

  router.add('POST /admin/devices/:id/approve', async (r) => {
    const d = await known(r.params.id);
    if (d.state === 'revoked') throw new HttpError(409, `device "${d.id}" is revoked; it must be enrolled again`, 'id');
    const reason = (await reasonOf(r, '')) || null;
    const done = await devices.approve(d.id, r.actor);
    await r.record({ action: 'device.approve', target: d.id, reason, detail: { owner: d.owner } });
    return presentDeviceRecord(done ?? d, maxAge());
  });

  router.add('POST /admin/devices/:id/revoke', async (r) => {
    const d = await known(r.params.id);
    const reason = (await reasonOf(r, '')) || null;
    const done = await devices.revoke(d.id, r.actor);
    await r.record({ action: 'device.revoke', target: d.id, reason, detail: { owner: d.owner } });
    return presentDeviceRecord(done ?? d, maxAge());
  });

  // Open in the route table: a report takes the admin token or a posture token, checked here.
  router.add('PUT /admin/devices/:id/posture', async ({ req, params }) => {
    const header = req.headers.authorization;
    const who = tokens.posture.check(header) ?? tokens.admin.check(header);
    if (who === null) {
      req.resume();
      throw new HttpError(401, 'missing or invalid posture or admin token');
    }
    const text = await readLimited(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `the report is not valid JSON: ${(err as Error).message}`);
    }
    const d = await known(params.id);
    if (d.state === 'revoked') throw new HttpError(409, `device "${d.id}" is revoked`, 'id');
    const at = Date.now();
    let facts;
    try {
      facts = parseReport(body, h.configs.current.posture?.facts ?? BUILTIN_POSTURE_FACTS, at);
    } catch (err) {
      if (err instanceof ReportError) throw new HttpError(400, err.message, err.param);
      throw err;
    }
    const next = await devices.report(d.id, facts, at);
    h.logger.info({ device: d.id, facts: Object.keys(facts), by: who }, 'posture reported');
    return presentDeviceRecord(next ?? d, maxAge());
  });
}

/** The body as text, refused (413) past MAX_REPORT_BYTES; read to the end so the client sees the answer. */
async function readLimited(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_LIMIT) {
    req.socket.destroySoon?.();
    throw new HttpError(413, `the report is larger than ${MAX_REPORT_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REPORT_BYTES) chunks.push(chunk as Buffer);
    else if (size > DRAIN_LIMIT) break;
  }
  if (size > MAX_REPORT_BYTES) throw new HttpError(413, `the report is larger than ${MAX_REPORT_BYTES} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}
