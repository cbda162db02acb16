// Retention deletes shared by both stores: chunk by chunk, each its own short statement or
// transaction, yielding to the event loop in between, so a large purge never stalls traffic.
import { setImmediate as nextTurn } from 'node:timers/promises';

export const PURGE_CHUNK = 2000;

/** Runs `deleteChunk(limit)` until it deletes fewer than a chunk; returns the total deleted. */
export async function deleteInChunks(deleteChunk: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteChunk(PURGE_CHUNK);
    total += n;
    if (n < PURGE_CHUNK) return total;
    await nextTurn();
  }
}
