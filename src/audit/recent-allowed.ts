// The ids of the last allowed requests. With audit.record_allowed: aggregate (the default) an
// allowed request is not a decision row, only +1 on its session × app total; yet its id is visible
// (X-Request-Id, the upstream's logs). Keeping the last few thousand ids lets the admin API answer
// "allowed, not recorded individually" with that total instead of "no decisions". Four writes into
// preallocated arrays per request (a few ns); a lookup scans them, newest first (~20 µs).
export interface AllowedRequest {
  requestId: string;
  app: string;
  outcome: 'allow' | 'bypass';
  sessionId: string | null;
  time: number;
}

export class RecentAllowed {
  private readonly ids: string[];
  private readonly apps: string[];
  private readonly sessions: Array<string | null>;
  private readonly times: Float64Array;
  private next = 0;

  constructor(readonly capacity = 8192) {
    this.ids = new Array<string>(capacity).fill('');
    this.apps = new Array<string>(capacity).fill('');
    this.sessions = new Array<string | null>(capacity).fill(null);
    this.times = new Float64Array(capacity);
  }

  add(requestId: string, app: string, sessionId: string | null, time: number): void {
    const i = this.next;
    this.ids[i] = requestId;
    this.apps[i] = app;
    this.sessions[i] = sessionId;
    this.times[i] = time;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
  }

  find(requestId: string): AllowedRequest | null {
    for (let k = 1; k <= this.capacity; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      if (this.ids[i] !== requestId) continue;
      const sessionId = this.sessions[i] ?? null;
      // Bypass apps need no identity: an allowed request without one was a bypass.
      return { requestId, app: this.apps[i] as string, outcome: sessionId ? 'allow' : 'bypass', sessionId, time: this.times[i] as number };
    }
    return null;
  }
}
