// /Users (RFC 7644 §3.3–§3.6): list with a filter, read, create, replace, patch, delete. Every
// change that can alter access (active, userName, primary email, deletion) goes to the effects.
import { randomUUID } from 'node:crypto';
import type { ScimUserRecord, ScimWriteResult } from '../../store/scim-types.js';
import { notFound, ScimError } from './errors.js';
import { applyOperation, expandPathless, patchOperations } from './patch.js';
import { checkIfMatch, found, listReply, projection, readModifyWrite, type ScimHandlerDeps, type ScimReply, type ScimRequest, type ScimUserSnapshot } from './query.js';
import { etag, renderUser, userDocument, userFields, type UserFields } from './resources.js';

const snapshot = (u: ScimUserRecord): ScimUserSnapshot => ({ id: u.id, userName: u.userName, primaryEmail: u.primaryEmail, active: u.active });

export class UsersResource {
  constructor(private readonly deps: ScimHandlerDeps) {}

  private async render(r: ScimRequest, u: ScimUserRecord, status = 200): Promise<ScimReply> {
    const groups = await this.deps.store.scimUserGroups(u.id);
    return { status, body: projection(r.url)(renderUser(u, groups, r.base)), etag: etag(u.version), location: `${r.base}/Users/${u.id}` };
  }

  list(r: ScimRequest): Promise<ScimReply> {
    return listReply(r, (q) => this.deps.store.listScimUsers(q), (u) => this.render(r, u));
  }

  async get(r: ScimRequest, id: string): Promise<ScimReply> {
    return this.render(r, await found(this.deps.store.getScimUser(id), 'User', id));
  }

  async create(r: ScimRequest): Promise<ScimReply> {
    const fields = userFields(await r.body());
    const now = Date.now();
    const user: ScimUserRecord = { id: randomUUID(), ...fields, version: 1, createdAt: now, updatedAt: now };
    written(await this.deps.store.createScimUser(user), fields);
    await this.deps.effects.userChanged(null, snapshot(user), r.event);
    return this.render(r, user, 201);
  }

  async replace(r: ScimRequest, id: string): Promise<ScimReply> {
    const fields = userFields(await r.body());
    return this.update(r, id, () => fields);
  }

  async patch(r: ScimRequest, id: string): Promise<ScimReply> {
    const ops = patchOperations(await r.body()).flatMap((op) => expandPathless(op));
    return this.update(r, id, (current) => {
      const doc = userDocument(current);
      for (const op of ops) applyOperation(doc, op, 'User');
      return userFields(doc);
    });
  }

  private async update(r: ScimRequest, id: string, change: (current: ScimUserRecord) => UserFields): Promise<ScimReply> {
    const store = this.deps.store;
    const { before, result } = await readModifyWrite(
      () => store.getScimUser(id),
      async (current) => {
        checkIfMatch(r, current.version);
        const fields = change(current);
        const next: ScimUserRecord = { ...current, ...fields, version: current.version + 1, updatedAt: Date.now() };
        const outcome = await store.updateScimUser(next, current.version);
        return outcome === 'stale' ? 'stale' : { outcome, next, fields };
      },
      () => notFound('User', id),
    );
    written(result.outcome, result.fields);
    if (result.outcome === 'not_found') throw notFound('User', id);
    await this.deps.effects.userChanged(snapshot(before), snapshot(result.next), r.event);
    return this.render(r, result.next);
  }

  async remove(r: ScimRequest, id: string): Promise<ScimReply> {
    const current = await found(this.deps.store.getScimUser(id), 'User', id);
    checkIfMatch(r, current.version);
    const gone = await this.deps.store.deleteScimUser(id);
    if (!gone) throw notFound('User', id);
    await this.deps.effects.userChanged(snapshot(gone), null, r.event);
    return { status: 204 };
  }
}

/** A refused write → the SCIM error that names the field. */
function written(result: ScimWriteResult, fields: UserFields): void {
  if (typeof result === 'object' && 'conflict' in result) {
    throw ScimError.of('uniqueness', `userName: ${JSON.stringify(fields.userName)} is already taken by another user`);
  }
}
