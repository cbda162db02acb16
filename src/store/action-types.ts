// The admin actions audit: every revocation, device approval and lockout lift made through the
// admin API or the console, with who, what, when and why. Appended once, never changed; kept
// (retention does not purge it). SQLite and PostgreSQL implement it; test/store/conformance-actions.ts
// runs both.
import type { Page, PageQuery } from './types.js';

export const ADMIN_ACTION_KINDS = ['session.revoke', 'user.logout', 'app.revoke', 'device.approve', 'device.revoke', 'lockout.lift'] as const;
export type AdminActionKind = (typeof ADMIN_ACTION_KINDS)[number];

export interface AdminActionInput {
  /** Epoch ms. */
  time: number;
  /** `admin:<token name>` or `console:<email>`. */
  actor: string;
  action: AdminActionKind;
  /** What it was done to: a session id, an email, an app name, a device id, `user:<key>` / `ip:<key>`. */
  target: string;
  /** Why, as the admin gave it (null when the action takes no reason). */
  reason: string | null;
  /** The request that made it: the console page's or the admin API request's id. */
  requestId: string;
  /** Through which door: the admin API (bearer token) or the console. */
  via: 'api' | 'console';
  /** What it did, e.g. { revoked: 3 } (small; never a token). */
  detail: Record<string, unknown> | null;
}

export interface AdminAction extends AdminActionInput {
  /** Assigned by the store, increasing. */
  id: number;
}

/** Newest first (time desc, id desc); filters combine with AND and match exactly. */
export interface ActionQuery extends PageQuery {
  actor?: string;
  action?: string;
  target?: string;
}

export interface ActionStore {
  /** Durable before it resolves. */
  record(a: AdminActionInput): Promise<void>;
  list(q: ActionQuery): Promise<Page<AdminAction>>;
}

/** An admin_actions row as both stores read it (detail already parsed). */
export interface ActionColumns {
  id: string | number;
  time: string | number;
  actor: string;
  action: string;
  target: string;
  reason: string | null;
  request_id: string;
  via: string;
  detail: Record<string, unknown> | null;
}

export function actionFromColumns(r: ActionColumns): AdminAction {
  return {
    id: Number(r.id),
    time: Number(r.time),
    actor: r.actor,
    action: r.action as AdminActionKind,
    target: r.target,
    reason: r.reason,
    requestId: r.request_id,
    via: r.via === 'console' ? 'console' : 'api',
    detail: r.detail,
  };
}
