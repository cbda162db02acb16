// With `workers: N` the sign-in steps of one browser can land on different workers (node:cluster
// spreads connections): the IdP's callback, the form POST and the handoff rarely reach the worker
// that started the sign-in. So sign-in state — flows, handoff codes, failure counts, used TOTP
// steps — is applied locally and sent to the other workers through the primary (cluster.ts relays
// the `login` kind of process/messages.ts). Single worker: no channel, nothing is sent.
import cluster from 'node:cluster';
import { isMessage, type MessageOf } from '../process/messages.js';

export const LOGIN_MESSAGE = 'login';

type Message = MessageOf<typeof LOGIN_MESSAGE>;

/** How messages reach the other workers (a test wires two Peers together). */
export interface Channel {
  send(m: Message): void;
  onMessage(fn: (m: unknown) => void): void;
}

export function clusterChannel(): Channel | null {
  if (!cluster.isWorker || !process.send) return null;
  return {
    send: (m) => void process.send?.(m),
    onMessage: (fn) => void process.on('message', fn),
  };
}

export class Peers {
  private readonly handlers = new Map<string, (data: unknown) => void>();

  constructor(private readonly channel: Channel | null = clusterChannel()) {
    channel?.onMessage((m) => {
      if (!isMessage(m, LOGIN_MESSAGE) || typeof m.topic !== 'string') return;
      this.handlers.get(m.topic)?.(m.data);
    });
  }

  /** true when other workers exist (a miss may just mean "not arrived yet"). */
  get shared(): boolean {
    return this.channel !== null;
  }

  on<T>(topic: string, fn: (data: T) => void): void {
    this.handlers.set(topic, fn as (data: unknown) => void);
  }

  send(topic: string, data: unknown): void {
    this.channel?.send({ gatehouse: LOGIN_MESSAGE, topic, data });
  }
}

/** A channel pair connecting two Peers in one process (tests). */
export function channelPair(): [Channel, Channel] {
  const listeners: Array<Array<(m: unknown) => void>> = [[], []];
  const make = (me: 0 | 1): Channel => ({
    send: (m) => queueMicrotask(() => listeners[1 - me]?.forEach((fn) => fn(structuredClone(m)))),
    onMessage: (fn) => void listeners[me]?.push(fn),
  });
  return [make(0), make(1)];
}
