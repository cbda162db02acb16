// POST /.gatehouse/ssf/{receiver id}: RFC 8935 push delivery of Security Event Tokens. The body is
// the SET itself (application/secevent+jwt). 202 (empty) when accepted and applied; otherwise 400
// with {"err": <RFC 8935 code>, "description": …}, or 503 when the transmitter's keys or the store
// cannot be reached (the transmitter retries). Nothing is applied unless everything checked out,
// and an event id (jti) is applied at most once across instances and restarts (store.events).
// Every SET, accepted or refused, is a decision in the audit and a count in the metrics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SsfReceiverConfig } from '../../config/types.js';
import type { RequestContext } from '../../context.js';
import type { Logger } from '../../log.js';
import type { EventStore } from '../../store/event-types.js';
import type { DecisionRecord } from '../../store/types.js';
import type { IdentityChanges } from '../changes.js';
import type { IdentityEventCounter } from '../metrics.js';
import { applyEvents, planEvents } from './events.js';
import type { DeviceCompliance } from './device-compliance.js';
import type { TransmitterKeys } from './keys.js';
import { verifySet, type SetErrorCode } from './verify.js';

export const SSF_PREFIX = '/.gatehouse/ssf/';
const MAX_SET_BYTES = 64 * 1024;
const READ_TIMEOUT_MS = 10_000;
/** A jti is remembered a minute beyond the time its SET would be refused as too old anyway. */
const REPLAY_MARGIN_MS = 60_000;

export interface SsfDeps {
  changes: IdentityChanges;
  events: EventStore;
  /** The audit's batching writer (decisions are queued, never awaited). */
  writer: { decision(d: DecisionRecord): void };
  logger: Logger;
  counter: IdentityEventCounter;
  /** Gatehouse's devices, for device-compliance-change (device-compliance.ts); absent: not installed. */
  devices?: DeviceCompliance;
  /** The receiver configured under this id, with its keys (undefined: none). */
  receiver(id: string): { cfg: SsfReceiverConfig; keys: TransmitterKeys } | undefined;
}

interface Answer {
  status: 202 | 400 | 404 | 405 | 503;
  err?: SetErrorCode;
  description: string;
  /** The metric label: the events applied, or the error code. */
  reasons: string[];
}

export class SsfReceiver {
  readonly prefix = SSF_PREFIX;

  constructor(private readonly d: SsfDeps) {}

  async handle(ctx: RequestContext, res: ServerResponse): Promise<void> {
    const id = ctx.path.slice(SSF_PREFIX.length);
    let answer: Answer;
    try {
      answer = await this.receive(ctx, id);
    } catch (err) {
      this.d.logger.error({ err, receiver: id, requestId: ctx.requestId }, 'ssf: the SET could not be applied');
      answer = { status: 503, err: 'invalid_request', description: 'the SET could not be applied right now; send it again', reasons: ['unavailable'] };
    }
    this.answer(ctx, res, id, answer);
  }

  private async receive(ctx: RequestContext, id: string): Promise<Answer> {
    const r = this.d.receiver(id);
    if (!r) return refused(404, 'invalid_request', `no SSF receiver "${id}" is configured`, ctx.req);
    if (ctx.req.method !== 'POST') return refused(405, 'invalid_request', 'SETs are pushed with POST', ctx.req);
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/secevent+jwt') return refused(400, 'invalid_request', 'Content-Type must be application/secevent+jwt', ctx.req);
    const body = await readBody(ctx.req);
    if (body === null) return refused(400, 'invalid_request', `the body must be one SET of at most ${MAX_SET_BYTES} bytes`);

    const set = await verifySet(body.trim(), r.cfg, r.keys);
    if (!set.ok) return { status: set.unavailable ? 503 : 400, err: set.err, description: set.description, reasons: [set.err] };
    const planned = planEvents(set.events, set.payload.sub_id);
    if (typeof planned === 'string') return refused(400, 'invalid_request', planned);
    const expiresAt = set.iat * 1000 + r.cfg.maxAgeMs + r.cfg.clockToleranceSec * 1000 + REPLAY_MARGIN_MS;
    const channel = `ssf:${id}`;
    if (!(await this.d.events.firstSeen(channel, set.jti, expiresAt, Date.now()))) {
      return refused(400, 'invalid_request', `jti ${set.jti} was received before (a replay)`);
    }
    try {
      const applied = await applyEvents(planned, this.d.changes, this.d.events, set.jti, this.d.devices);
      const description = `jti ${set.jti}: ${applied.map((a) => `${a.name}: ${a.outcome}`).join('; ')}`;
      return { status: 202, description, reasons: applied.map((a) => a.name) };
    } catch (err) {
      // Not applied: the transmitter's retry must not be taken for a replay.
      await this.d.events.forget(channel, set.jti).catch(() => undefined);
      throw err;
    }
  }

  private answer(ctx: RequestContext, res: ServerResponse, id: string, a: Answer): void {
    const accepted = a.status === 202;
    for (const reason of a.reasons) this.d.counter.inc({ channel: 'ssf', result: accepted ? 'accepted' : 'refused', reason });
    const log = { receiver: id, requestId: ctx.requestId, status: a.status, err: a.err, description: a.description };
    if (accepted) this.d.logger.info(log, 'ssf: SET accepted');
    else this.d.logger.warn(log, 'ssf: SET refused');
    this.d.writer.decision({
      requestId: ctx.requestId,
      time: Date.now(),
      app: ctx.app?.name ?? '',
      sessionId: null,
      email: null,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      clientIp: ctx.clientIp,
      outcome: accepted ? 'allow' : 'error',
      policy: null,
      reason: accepted ? 'ssf_accepted' : `ssf_${a.err ?? 'invalid_request'}`,
      reasons: [`ssf receiver ${id}: ${a.description}`],
      configHash: ctx.config.hash,
      identityVersion: null,
    });
    const body = accepted ? '' : JSON.stringify({ err: a.err, description: a.description });
    ctx.status = a.status;
    ctx.bytes = Buffer.byteLength(body);
    res.writeHead(a.status, {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': ctx.requestId,
      ...(a.status === 405 ? { allow: 'POST' } : {}),
      ...(a.status === 503 ? { 'retry-after': '5' } : {}),
      ...(accepted ? {} : { 'content-type': 'application/json', 'content-length': ctx.bytes }),
    });
    res.end(body);
  }
}

function refused(status: Answer['status'], err: SetErrorCode, description: string, drain?: IncomingMessage): Answer {
  drain?.resume();
  return { status, err, description, reasons: [err] };
}

/** The body as text, or null when it is larger than MAX_SET_BYTES, too slow or broken. */
function readBody(req: IncomingMessage): Promise<string | null> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_SET_BYTES) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      resolve(null);
      req.destroy();
    }, READ_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_SET_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(size <= MAX_SET_BYTES ? Buffer.concat(chunks).toString('utf8') : null);
    });
    req.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}
