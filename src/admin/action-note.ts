// How a mutating admin route records what it did in the admin actions audit: the route says what
// and to what (and why); who, when, through which door and the request id come from the request.
// The action is done first (a revocation is never held back by its audit); a record that cannot be
// written is logged as an error by the sink (gateway.ts), and the answer still tells the truth.
import type { AdminActionInput } from '../store/action-types.js';

export type ActionNote = Pick<AdminActionInput, 'action' | 'target'> & { reason?: string | null; detail?: Record<string, unknown> | null };

export type ActionSink = (a: AdminActionInput) => Promise<void>;

export function actionRecorder(sink: ActionSink | null, actor: string, requestId: string, via: AdminActionInput['via']): (note: ActionNote) => Promise<void> {
  return async (note) => {
    if (!sink) return;
    await sink({ time: Date.now(), actor, requestId, via, action: note.action, target: note.target, reason: note.reason ?? null, detail: note.detail ?? null });
  };
}
