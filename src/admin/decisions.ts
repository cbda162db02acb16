// /admin/decisions: "why was request X denied?" — every denial and unauthenticated request, with the
// deciding policy and per-rule reasons.
import type { Gateway } from '../gateway.js';
import type { DecisionRecord } from '../store/types.js';
import { presentDecision } from './present.js';
import { caughtUp, fromStore, limitParam, onlyParams, parseSince, query } from './params.js';
import { HttpError, type AdminRouter } from './server.js';

export const OUTCOMES: ReadonlyArray<DecisionRecord['outcome']> = ['allow', 'deny', 'bypass', 'unauthenticated'];

export function registerDecisions(router: AdminRouter, g: Gateway): void {
  router.add('GET', '/admin/decisions', async ({ url }) => {
    onlyParams(url, ['request_id', 'email', 'app', 'outcome', 'since', 'session_id', 'limit', 'cursor']);
    const limit = limitParam(url);
    const outcome = query(url, 'outcome');
    if (outcome !== undefined && !OUTCOMES.includes(outcome as DecisionRecord['outcome'])) {
      throw new HttpError(400, `outcome must be one of ${OUTCOMES.join(', ')}`, 'outcome');
    }
    const sinceText = query(url, 'since');
    const since = sinceText === undefined ? undefined : parseSince(sinceText, 'since');
    const filters = {
      requestId: query(url, 'request_id'),
      email: query(url, 'email'),
      app: query(url, 'app'),
      sessionId: query(url, 'session_id'),
      cursor: query(url, 'cursor'),
    };
    await caughtUp(g);
    const page = await fromStore('list decisions', () =>
      g.store.listDecisions({
        limit,
        ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)),
        ...(outcome !== undefined ? { outcome } : {}),
        ...(since !== undefined ? { since } : {}),
      }),
    );
    return { decisions: page.items.map(presentDecision), next_cursor: page.nextCursor };
  });
}
