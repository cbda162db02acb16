// Relays one upstream response to the client (undici's handler interface), and gives up on the
// exchange when the client is too slow or the app's timeout passes while the request still waits
// for a pooled connection: a page (408, 504) when nothing was sent yet, an aborted connection
// otherwise, and the upstream request aborted either way so its connection is free again.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AppConfig } from '../../config/types.js';
import type { RequestContext } from '../../context.js';
import { reject, type Rejection } from '../../errors.js';
import type { Logger } from '../../log.js';
import { bodyUnread } from '../request.js';
import type { ProgressWatch, Watched } from './guards.js';

export interface ForwardEvents {
  upstreamError(app: string, kind: 'refused' | 'timeout' | 'reset' | 'truncated' | 'slow_client'): void;
}

/** Response headers that describe the upstream connection, not the response. */
const RESPONSE_HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'proxy-authenticate']);

/** undici's errors for "no response headers in time" and "could not connect in time". */
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** The client went away, or the gateway gave up on it: abort the upstream request, answer nothing. */
class ClientGone extends Error {}

export class ResponseRelay implements Dispatcher.DispatchHandler {
  private started = false;
  /** The upstream exchange is over (ended or failed). */
  private done = false;
  /** The gateway gave up on this exchange: every later upstream event is ignored. */
  private abandoned = false;
  private bytes = 0;
  private controller: Dispatcher.DispatchController | null = null;
  private deadline: NodeJS.Timeout | null = null;
  private reading: Watched | null = null;

  constructor(
    private readonly ctx: RequestContext,
    private readonly res: ServerResponse,
    private readonly app: AppConfig,
    private readonly onFail: (rej: Rejection) => void,
    private readonly events: ForwardEvents,
    private readonly logger: Logger,
    private readonly watch: ProgressWatch,
    private readonly minReadRate: number,
  ) {}

  /** 504 when no response has started within `ms` (set when the request must wait for a connection). */
  startDeadline(ms: number): void {
    this.deadline = setTimeout(() => {
      if (this.started || this.done) return;
      this.events.upstreamError(this.app.name, 'timeout');
      this.abandon(reject('upstream_timeout', 'upstream_timeout'));
    }, ms);
  }

  /** Give up: answer `rej` if nothing was sent yet, else cut the client connection; abort upstream. */
  abandon(rej: Rejection): void {
    if (this.abandoned || this.done) return;
    this.abandoned = true;
    if (rej.code !== 'upstream_timeout') this.events.upstreamError(this.app.name, 'slow_client');
    this.stopTimers();
    this.controller?.abort(new ClientGone('abandoned'));
    if (!this.started && !this.res.headersSent) this.onFail(rej);
    else this.res.destroy();
  }

  /** The client response closed (finished or not). */
  clientClosed(): void {
    this.stopTimers();
    if (this.done) return;
    if (this.controller === null) this.abandoned = true; // still queued: aborted when it gets a connection
    else if (!this.controller.aborted) this.controller.abort(new ClientGone('client closed the connection'));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.abandoned) controller.abort(new ClientGone('abandoned while waiting for a connection'));
    else this.controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingMessage['headers'], statusMessage?: string): void {
    if (statusCode < 200 || this.abandoned) return; // 1xx informational: not relayed
    this.started = true;
    const res = this.res;
    if (res.destroyed) return;
    const out: OutgoingHttpHeaders = {};
    const nominated = headers.connection;
    const extra = typeof nominated === 'string' && nominated !== 'keep-alive' && nominated !== 'close' ? nominated.toLowerCase().split(',').map((s) => s.trim()) : null;
    for (const name in headers) {
      if (RESPONSE_HOP_BY_HOP.has(name) || (extra !== null && extra.includes(name))) continue;
      out[name] = headers[name];
    }
    out['x-request-id'] = this.ctx.requestId;
    if (bodyUnread(this.ctx.req)) out.connection = 'close'; // the upstream answered before the body was sent
    this.ctx.status = statusCode;
    res.writeHead(statusCode, statusMessage || undefined, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.abandoned) return;
    this.bytes += chunk.length;
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
      // The client pushes back: from now on it must keep reading at min_body_rate.
      // Progress is what left Node's buffer for the socket: bytes the client's side accepted.
      this.reading ??= this.watch.watch(() => this.bytes - this.res.writableLength, this.minReadRate, Infinity, () => this.abandon(reject('request_timeout', 'read_too_slow')));
    }
  }

  onResponseEnd(): void {
    this.done = true;
    this.stopTimers();
    if (this.abandoned) return;
    this.ctx.bytes = this.bytes;
    this.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    this.done = true;
    this.stopTimers();
    if (err instanceof ClientGone || this.abandoned) return;
    if (this.started || this.res.headersSent) {
      // Truncated or stalled mid-body: abort the client connection so it cannot mistake the
      // response for complete.
      this.events.upstreamError(this.app.name, err.code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'truncated');
      this.res.destroy();
      return;
    }
    const code = err.code ?? (err.cause as { code?: string } | undefined)?.code;
    if (code !== undefined && TIMEOUTS.has(code)) {
      this.events.upstreamError(this.app.name, 'timeout');
      this.onFail(reject('upstream_timeout', 'upstream_timeout'));
      return;
    }
    this.events.upstreamError(this.app.name, code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' ? 'reset' : 'refused');
    this.logger.warn({ requestId: this.ctx.requestId, app: this.app.name, err: err.message, code }, 'upstream error');
    this.onFail(reject('upstream_unavailable', code ? code.toLowerCase() : 'upstream_error'));
  }

  private stopTimers(): void {
    if (this.deadline !== null) {
      clearTimeout(this.deadline);
      this.deadline = null;
    }
    if (this.reading !== null) {
      this.watch.unwatch(this.reading);
      this.reading = null;
    }
  }
}
