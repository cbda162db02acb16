// What the store keeps for SCIM 2.0 provisioning (RFC 7643/7644): users, groups and memberships,
// and the filter tree the SCIM list endpoints hand to the store. identity/scim/ parses and
// validates; the drivers only store and query. Times are epoch milliseconds.

export interface ScimEmail {
  value: string;
  type?: string;
  primary?: boolean;
}

export interface ScimUserRecord {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  active: boolean;
  emails: ScimEmail[];
  /** The value of the primary email (or the only one), lower-cased: how sessions are matched besides userName. */
  primaryEmail: string | null;
  /** Every other attribute the client sent (name, title, the enterprise extension …), returned as stored. */
  attributes: Record<string, unknown>;
  /** Bumped by every write; the ETag, and the guard against lost updates. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface ScimGroupRecord {
  id: string;
  displayName: string;
  externalId: string | null;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** A group's member as listed: a user id and the user's userName (SCIM's `display`). */
export interface ScimMember {
  value: string;
  display: string;
}

/** Membership changes applied with a group write, in this order: removeAll, remove, add. */
export interface ScimMemberChange {
  removeAll?: boolean;
  remove?: string[];
  add?: string[];
}

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** An attribute path: `urn:…:User:userName`, `name.familyName`, `emails.value`. Names as written. */
export interface AttrPath {
  uri?: string;
  name: string;
  sub?: string;
}

/** RFC 7644 §3.4.2.2; `has` is a valuePath (`emails[type eq "work"]`): one element matches the inner filter. */
export type ScimFilter =
  | { op: 'and' | 'or'; left: ScimFilter; right: ScimFilter }
  | { op: 'not'; filter: ScimFilter }
  | { op: CompareOp; attr: AttrPath; value: string | number | boolean | null }
  | { op: 'pr'; attr: AttrPath }
  | { op: 'has'; attr: AttrPath; filter: ScimFilter };

export interface ScimListQuery {
  filter?: ScimFilter;
  /** 1-based (SCIM's startIndex). */
  startIndex: number;
  /** 0..200: 0 returns only the total. */
  count: number;
}

export interface ScimList<T> {
  total: number;
  items: T[];
}

/** Written: ok; or why not. `stale`: the version moved since it was read (re-read and retry). */
export type ScimWriteResult = 'ok' | 'not_found' | 'stale' | { conflict: 'userName' } | { unknownMember: string };

/** A group write: the users whose membership it changed, or why nothing was written. */
export type ScimGroupWriteResult = Exclude<ScimWriteResult, 'ok'> | { changedMembers: string[] };

/** A user's SCIM standing, as sessions see it: matched by userName or primary email. */
export interface ScimStanding {
  userId: string;
  active: boolean;
  /** Display names of the user's SCIM groups. */
  groups: string[];
}

/** The most members one group lists in a GET (larger groups are read with excludedAttributes=members). */
export const SCIM_MAX_LISTED_MEMBERS = 10_000;

export interface ScimStore {
  /** `{conflict: 'userName'}` when another user has the userName (case-insensitive). */
  createScimUser(u: ScimUserRecord): Promise<ScimWriteResult>;
  /** Replaces the user when its stored version is `expectedVersion`; `u.version` is the new one. */
  updateScimUser(u: ScimUserRecord, expectedVersion: number): Promise<ScimWriteResult>;
  /** Deletes the user and its memberships; returns what was deleted. */
  deleteScimUser(id: string): Promise<ScimUserRecord | null>;
  getScimUser(id: string): Promise<ScimUserRecord | null>;
  listScimUsers(q: ScimListQuery): Promise<ScimList<ScimUserRecord>>;
  /** Every group of the user (id and displayName), by displayName. */
  scimUserGroups(userId: string): Promise<Array<{ id: string; displayName: string }>>;
  /** `{unknownMember}` when a member id is not a SCIM user (nothing written). */
  createScimGroup(g: ScimGroupRecord, members: string[]): Promise<ScimGroupWriteResult>;
  /** Replaces the group's attributes and applies the member changes in one transaction. */
  updateScimGroup(g: ScimGroupRecord, expectedVersion: number, members: ScimMemberChange): Promise<ScimGroupWriteResult>;
  /** Deletes the group and its memberships; returns the ids of the users who were members. */
  deleteScimGroup(id: string): Promise<string[] | null>;
  getScimGroup(id: string): Promise<ScimGroupRecord | null>;
  listScimGroups(q: ScimListQuery): Promise<ScimList<ScimGroupRecord>>;
  /** Members in userName order, at most `limit`. */
  scimGroupMembers(groupId: string, limit: number): Promise<ScimMember[]>;
  /** Every member's user id (a renamed group changes every member's groups). */
  scimGroupMemberIds(groupId: string): Promise<string[]>;
  /** Users by id (for the effects of a membership change); unknown ids are left out. */
  scimUsersById(ids: string[]): Promise<ScimUserRecord[]>;
  /** The SCIM user whose userName or primary email is `email` (case-insensitive), if any. */
  scimStanding(email: string): Promise<ScimStanding | null>;
}
