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

/** Value of each lowercase hex digit by char code (0-9, a-f); -1 for every other code unit. */
const HEX = new Int8Array(65536).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;
/** Where the 32 hex digits of a canonical UUID are (the dashes skipped). */
const DIGITS = Uint8Array.of(0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34);

/**
 * The 16 bytes of a lowercase canonical UUID (what randomUUID() makes: every id the gateway itself
 * gives) written at `at`; false for any other string (the bytes at `at` then mean nothing).
 */
function uuidBytes(id: string, into: Uint8Array, at: number): boolean {
  if (id.length !== 36 || id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
  for (let k = 0; k < 16; k++) {
    const j = DIGITS[k] as number;
    const hi = HEX[id.charCodeAt(j)] as number;
    const lo = HEX[id.charCodeAt(j + 1)] as number;
    if ((hi | lo) < 0) return false;
    into[at + k] = (hi << 4) | lo;
  }
  return true;
}

export class RecentAllowed {
  /**
   * The gateway's own ids (UUIDs) as 16 bytes each. Kept as strings, every allowed request's id
   * outlived two young-generation collections (the ring holds ~1 s of traffic) and was promoted to
   * the old generation to die there: half of all the bytes a cached-allow request promoted
   * (measured: 77 → 38 B per request), garbage that grew the heap between full collections.
   */
  private readonly uuids: Uint8Array;
  /** Ids a trusted proxy sent that are not UUIDs (rare), as strings; undefined where the slot holds a UUID. */
  private readonly others: Array<string | undefined>;
  private readonly apps: string[];
  private readonly sessions: Array<string | null>;
  private readonly times: Float64Array;
  private next = 0;

  constructor(readonly capacity = 8192) {
    this.uuids = new Uint8Array(capacity * 16);
    this.others = new Array<string | undefined>(capacity).fill(undefined);
    this.apps = new Array<string>(capacity).fill('');
    this.sessions = new Array<string | null>(capacity).fill(null);
    this.times = new Float64Array(capacity);
  }

  add(requestId: string, app: string, sessionId: string | null, time: number): void {
    const i = this.next;
    if (uuidBytes(requestId, this.uuids, i * 16)) {
      if (this.others[i] !== undefined) this.others[i] = undefined;
    } else {
      this.others[i] = requestId;
    }
    this.apps[i] = app;
    this.sessions[i] = sessionId;
    this.times[i] = time;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
  }

  find(requestId: string): AllowedRequest | null {
    const wanted = new Uint8Array(16);
    const uuid = uuidBytes(requestId, wanted, 0);
    for (let k = 1; k <= this.capacity; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      if (this.times[i] === 0) continue; // never written
      const other = this.others[i];
      if (uuid ? other !== undefined || !this.sameUuid(i, wanted) : other !== requestId) continue;
      const sessionId = this.sessions[i] ?? null;
      // Bypass apps need no identity: an allowed request without one was a bypass.
      return { requestId, app: this.apps[i] as string, outcome: sessionId ? 'allow' : 'bypass', sessionId, time: this.times[i] as number };
    }
    return null;
  }

  private sameUuid(i: number, wanted: Uint8Array): boolean {
    const at = i * 16;
    for (let k = 0; k < 16; k++) if (this.uuids[at + k] !== wanted[k]) return false;
    return true;
  }
}
