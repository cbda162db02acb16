// Discovery (RFC 7644 §4, RFC 7643 §5–§7): /ServiceProviderConfig, /ResourceTypes, /Schemas.
// They describe what this server really does: PATCH yes, filter yes (200 results a page), ETags
// yes, bulk / sort / change-password no. Built once per base URL.
import { ENTERPRISE_URN, GROUP_URN, LIST_URN, USER_URN, type Doc } from './resources.js';
import { MAX_COUNT } from './query.js';
import { notFound } from './errors.js';

const SPC_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
export const MAX_PAYLOAD = 1024 * 1024;

type Attr = [name: string, type: string, opts?: { multi?: boolean; required?: boolean; unique?: 'server'; mutability?: string; caseExact?: boolean; returned?: string; sub?: Attr[] }];

function attribute([name, type, o = {}]: Attr): Doc {
  return {
    name,
    type,
    multiValued: o.multi ?? false,
    required: o.required ?? false,
    caseExact: o.caseExact ?? false,
    mutability: o.mutability ?? 'readWrite',
    returned: o.returned ?? 'default',
    uniqueness: o.unique ?? 'none',
    ...(o.sub ? { subAttributes: o.sub.map(attribute) } : {}),
  };
}

const str = (name: string): Attr => [name, 'string'];

const USER_ATTRS: Attr[] = [
  ['userName', 'string', { required: true, unique: 'server' }],
  ['externalId', 'string', { caseExact: true }],
  ['name', 'complex', { sub: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map(str) }],
  str('displayName'),
  str('nickName'),
  str('title'),
  str('userType'),
  str('preferredLanguage'),
  str('locale'),
  str('timezone'),
  ['active', 'boolean'],
  ['password', 'string', { mutability: 'writeOnly', returned: 'never' }],
  ['emails', 'complex', { multi: true, sub: [str('value'), str('type'), ['primary', 'boolean']] }],
  ['phoneNumbers', 'complex', { multi: true, sub: [str('value'), str('type'), ['primary', 'boolean']] }],
  ['groups', 'complex', { multi: true, mutability: 'readOnly', sub: [['value', 'string', { mutability: 'readOnly' }], ['$ref', 'reference', { mutability: 'readOnly' }], ['display', 'string', { mutability: 'readOnly' }]] }],
];

const GROUP_ATTRS: Attr[] = [
  ['displayName', 'string', { required: true }],
  ['externalId', 'string', { caseExact: true }],
  ['members', 'complex', { multi: true, sub: [['value', 'string', { mutability: 'immutable' }], ['$ref', 'reference', { mutability: 'immutable' }], ['display', 'string', { mutability: 'readOnly' }]] }],
];

const ENTERPRISE_ATTRS: Attr[] = ['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map(str);

const SCHEMAS: Array<{ id: string; name: string; attrs: Attr[] }> = [
  { id: USER_URN, name: 'User', attrs: USER_ATTRS },
  { id: GROUP_URN, name: 'Group', attrs: GROUP_ATTRS },
  { id: ENTERPRISE_URN, name: 'EnterpriseUser', attrs: ENTERPRISE_ATTRS },
];

export class Discovery {
  private readonly cache = new Map<string, { spc: Doc; types: Doc[]; schemas: Doc[] }>();

  private docs(base: string) {
    let d = this.cache.get(base);
    if (!d) {
      const meta = (resourceType: string, path: string) => ({ resourceType, location: `${base}/${path}` });
      d = {
        spc: {
          schemas: [SPC_URN],
          patch: { supported: true },
          bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
          filter: { supported: true, maxResults: MAX_COUNT },
          changePassword: { supported: false },
          sort: { supported: false },
          etag: { supported: true },
          authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: 'A SCIM token from scim.tokens_file or GATEHOUSE_SCIM_TOKEN', primary: true }],
          meta: meta('ServiceProviderConfig', 'ServiceProviderConfig'),
        },
        types: [
          { schemas: [RT_URN], id: 'User', name: 'User', endpoint: '/Users', schema: USER_URN, schemaExtensions: [{ schema: ENTERPRISE_URN, required: false }], meta: meta('ResourceType', 'ResourceTypes/User') },
          { schemas: [RT_URN], id: 'Group', name: 'Group', endpoint: '/Groups', schema: GROUP_URN, meta: meta('ResourceType', 'ResourceTypes/Group') },
        ],
        schemas: SCHEMAS.map((s) => ({ schemas: [SCHEMA_URN], id: s.id, name: s.name, attributes: s.attrs.map(attribute), meta: meta('Schema', `Schemas/${s.id}`) })),
      };
      // The base comes from the Host header: keep a handful, not one per forged name.
      if (this.cache.size > 16) this.cache.clear();
      this.cache.set(base, d);
    }
    return d;
  }

  serviceProviderConfig(base: string): Doc {
    return this.docs(base).spc;
  }

  /** /ResourceTypes or /Schemas: the list, or one by id. */
  read(base: string, what: 'types' | 'schemas', id: string | undefined): Doc {
    const list = this.docs(base)[what];
    if (id === undefined) return { schemas: [LIST_URN], totalResults: list.length, startIndex: 1, itemsPerPage: list.length, Resources: list };
    const one = list.find((d) => d.id === id);
    if (!one) throw notFound(what === 'types' ? 'ResourceType' : 'Schema', id);
    return one;
  }
}
