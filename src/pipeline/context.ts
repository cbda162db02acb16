// The one context a request gets, made before the first stage: request id, client address through
// trusted proxies, the config snapshot it runs on, and every slot the stages fill, declared up front.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { GatewayConfig } from '../config/types.js';
import type { RequestContext } from '../context.js';
import type { RequestFacts } from '../policy/types.js';
import { agentFacts } from '../policy/user-agent.js';
import { clientInfo, requestId } from './request.js';

export function createContext(req: IncomingMessage, config: GatewayConfig, upgrade: boolean): RequestContext {
  const tlsSocket = req.socket as TLSSocket;
  const client = clientInfo(req, config.trustedProxies, tlsSocket.encrypted === true);
  const facts: RequestContext['facts'] = new Facts(client.clientIp, req.headers['user-agent']);
  if (config.posture) facts.postureMaxAgeMs = config.posture.maxAgeMs;
  if (config.countryHeader && client.trustedPeer) {
    const c = req.headers[config.countryHeader]; // lowercased at load
    if (typeof c === 'string' && c) facts.country = c;
  }
  if (tlsSocket.encrypted && config.tls?.clientCa) {
    const cert = tlsSocket.getPeerCertificate();
    if (cert && cert.subject) facts.certificate = { verified: tlsSocket.authorized, subject: String(cert.subject.CN), fingerprint: cert.fingerprint256 };
  }
  const ctx: RequestContext = {
    requestId: requestId(req, client.trustedPeer),
    startedAt: performance.now(),
    config,
    req,
    trustedPeer: client.trustedPeer,
    forwardAuth: undefined,
    method: req.method ?? 'GET',
    upgrade,
    authority: '',
    host: '',
    path: '',
    query: '',
    proto: client.proto,
    clientIp: client.clientIp,
    facts,
    // Declared up front, in one order, so every request's context has the same hidden class and
    // the stages' property reads stay monomorphic instead of following a different shape per path.
    app: undefined,
    identity: undefined,
    credentialSource: undefined,
    credentialError: undefined,
    revokedIdentity: undefined,
    cacheHit: undefined,
    decision: undefined,
    rejection: undefined,
    status: undefined,
    bytes: undefined,
  };
  return ctx;
}

/**
 * What the User-Agent claims (posture ua_* facts) is parsed only when a selector, the identity page
 * or the what-if reads it: most requests never do, and a client rotating its User-Agent must not
 * buy a parse on every request to a bypass app. The lazy getter is on the class, not defined on each
 * object: a getter closure defined per object gave every request's facts a hidden class of its own
 * (~3-4 µs of CPU per request, measured with bench/fa-cpu.mjs).
 */
class Facts implements RequestFacts {
  country?: string;
  certificate?: RequestFacts['certificate'];
  postureMaxAgeMs?: number;
  #userAgent: string | undefined;
  #agent: RequestFacts['agent'];
  #parsed = false;

  constructor(
    public clientIp: string,
    userAgent: string | undefined,
  ) {
    this.#userAgent = userAgent;
  }

  get agent(): RequestFacts['agent'] {
    if (!this.#parsed) {
      this.#agent = agentFacts(this.#userAgent);
      this.#parsed = true;
    }
    return this.#agent;
  }

  set agent(value: RequestFacts['agent']) {
    this.#agent = value;
    this.#parsed = true;
  }
}
