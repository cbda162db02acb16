// /Groups (RFC 7644 §3.3–§3.6). Members are stored as rows, not inside the group, so adding one
// member to a 50,000-member group writes one row: member operations become a ScimMemberChange
// (applied in the same transaction as the group's other attributes) instead of a rewritten list.
import { randomUUID } from 'node:crypto';
import { SCIM_MAX_LISTED_MEMBERS, type ScimFilter, type ScimGroupRecord, type ScimGroupWriteResult, type ScimMemberChange } from '../../store/scim-types.js';
import { invalidValue, notFound, ScimError } from './errors.js';
import { applyOperation, expandPathless, patchOperations, type PatchOperation } from './patch.js';
import { checkIfMatch, found, listReply, projection, readModifyWrite, wants, type ScimHandlerDeps, type ScimReply, type ScimRequest } from './query.js';
import { etag, groupDocument, groupFields, memberIds, renderGroup } from './resources.js';

export class GroupsResource {
  constructor(private readonly deps: ScimHandlerDeps) {}

  private async render(r: ScimRequest, g: ScimGroupRecord, status = 200): Promise<ScimReply> {
    const members = wants(r.url, 'members') ? await this.deps.store.scimGroupMembers(g.id, SCIM_MAX_LISTED_MEMBERS) : null;
    return { status, body: projection(r.url)(renderGroup(g, members, r.base)), etag: etag(g.version), location: `${r.base}/Groups/${g.id}` };
  }

  list(r: ScimRequest): Promise<ScimReply> {
    return listReply(r, (q) => this.deps.store.listScimGroups(q), (g) => this.render(r, g));
  }

  async get(r: ScimRequest, id: string): Promise<ScimReply> {
    return this.render(r, await found(this.deps.store.getScimGroup(id), 'Group', id));
  }

  async create(r: ScimRequest): Promise<ScimReply> {
    const { members, ...fields } = groupFields(await r.body());
    const now = Date.now();
    const group: ScimGroupRecord = { id: randomUUID(), ...fields, version: 1, createdAt: now, updatedAt: now };
    const changed = changedMembers(await this.deps.store.createScimGroup(group, members), 'members');
    await this.deps.effects.membershipsChanged(changed, r.event);
    return this.render(r, group, 201);
  }

  async replace(r: ScimRequest, id: string): Promise<ScimReply> {
    const { members, ...fields } = groupFields(await r.body());
    return this.update(r, id, () => ({ fields, members: { removeAll: true, add: members } }));
  }

  async patch(r: ScimRequest, id: string): Promise<ScimReply> {
    const ops = patchOperations(await r.body()).flatMap((op) => expandPathless(op));
    return this.update(r, id, (current) => {
      const doc = groupDocument(current);
      const members = new MemberChanges();
      for (const op of ops) if (!members.take(op)) applyOperation(doc, op, 'Group');
      const { members: none, ...fields } = groupFields(doc);
      void none;
      return { fields, members: members.result() };
    });
  }

  private async update(r: ScimRequest, id: string, change: (g: ScimGroupRecord) => { fields: Omit<ScimGroupRecord, 'id' | 'version' | 'createdAt' | 'updatedAt'>; members: ScimMemberChange }): Promise<ScimReply> {
    const store = this.deps.store;
    const { before, result } = await readModifyWrite(
      () => store.getScimGroup(id),
      async (current) => {
        checkIfMatch(r, current.version);
        const { fields, members } = change(current);
        const next: ScimGroupRecord = { ...current, ...fields, version: current.version + 1, updatedAt: Date.now() };
        const outcome = await store.updateScimGroup(next, current.version, members);
        return outcome === 'stale' ? 'stale' : { outcome, next };
      },
      () => notFound('Group', id),
    );
    if (result.outcome === 'not_found') throw notFound('Group', id);
    const changed = changedMembers(result.outcome, 'members');
    // A rename changes the groups of every member, not only of those who joined or left.
    const renamed = before.displayName !== result.next.displayName;
    await this.deps.effects.membershipsChanged(renamed ? [...new Set([...changed, ...(await store.scimGroupMemberIds(id))])] : changed, r.event);
    return this.render(r, result.next);
  }

  async remove(r: ScimRequest, id: string): Promise<ScimReply> {
    const current = await found(this.deps.store.getScimGroup(id), 'Group', id);
    checkIfMatch(r, current.version);
    const members = await this.deps.store.deleteScimGroup(id);
    if (!members) throw notFound('Group', id);
    await this.deps.effects.membershipsChanged(members, r.event);
    return { status: 204 };
  }
}

function changedMembers(result: ScimGroupWriteResult, attr: string): string[] {
  if (typeof result === 'object' && 'unknownMember' in result) throw invalidValue(`${attr}.value`, `${JSON.stringify(result.unknownMember)} is not the id of a SCIM user`);
  if (typeof result === 'object' && 'changedMembers' in result) return result.changedMembers;
  return [];
}

/**
 * Member operations in the shapes Okta and Entra send, folded in order into one change:
 *   {op: add, path: members, value: [{value}]}                  add
 *   {op: remove, path: members, value: [{value}]}               remove those (Entra)
 *   {op: remove, path: members[value eq "id"]}                  remove that one (Entra, aadOptscim062020)
 *   {op: remove, path: members}                                 remove all
 *   {op: replace, path: members, value: [...]} / no path         replace all (Okta)
 */
class MemberChanges {
  private removeAll = false;
  private readonly add = new Set<string>();
  private readonly remove = new Set<string>();

  /** True when the operation was about members (and is now folded in). */
  take(op: PatchOperation): boolean {
    const path = op.path;
    if (!path || path.attr.name.toLowerCase() !== 'members' || path.attr.uri) return false;
    if (path.attr.sub || path.sub) throw ScimError.of('invalidPath', `${op.at}.path: members can only be added or removed as a whole`);
    if (path.filter) {
      if (op.op !== 'remove') throw ScimError.of('invalidPath', `${op.at}.path: a members filter works only with remove`);
      for (const id of valuesOf(path.filter, op)) this.drop(id);
      return true;
    }
    if (op.op === 'replace' || (op.op === 'remove' && op.value === undefined)) this.clear();
    if (op.op === 'remove') for (const id of op.value === undefined ? [] : memberIds(op.value, `${op.at}.value`)) this.drop(id);
    else for (const id of memberIds(op.value, `${op.at}.value`)) this.put(id);
    return true;
  }

  private clear(): void {
    this.removeAll = true;
    this.add.clear();
    this.remove.clear();
  }

  private drop(id: string): void {
    this.add.delete(id);
    if (!this.removeAll) this.remove.add(id);
  }

  private put(id: string): void {
    this.remove.delete(id);
    this.add.add(id);
  }

  result(): ScimMemberChange {
    return { ...(this.removeAll ? { removeAll: true } : {}), remove: [...this.remove], add: [...this.add] };
  }
}

/** `value eq "a"`, or several joined by `or`: the ids. Anything else cannot select members. */
function valuesOf(f: ScimFilter, op: PatchOperation): string[] {
  if (f.op === 'or') return [...valuesOf(f.left, op), ...valuesOf(f.right, op)];
  if (f.op === 'eq' && f.attr.name.toLowerCase() === 'value' && !f.attr.sub && typeof f.value === 'string') return [f.value];
  throw ScimError.of('invalidPath', `${op.at}.path: select members with value eq "<user id>"`);
}
