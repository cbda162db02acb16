// The admin API as one published document (schema/admin-api.schema.json, next to the config
// schemas; also served at GET /admin/schema): every route of routes.ts with the JSON Schemas of its
// path parameters, query, body and answer, as plain draft-07 (a strict ajv compiles it). `npm run schema` writes it; a test checks the committed
// file is what this code makes, and that the gateway's answers match it.
//   node dist/admin/api-schema.js [outDir]      (default: <package>/schema)
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ADMIN_ROUTES, ROUTE_KEYS, type RouteKey, type RouteSpec } from './routes.js';
import type { TSchema } from '@sinclair/typebox';
import { Policy } from '../config/schema.js';
import { Explanation } from './schemas-policy.js';
import { Activity, BoundDevice, Decision, Device, ErrorAnswer, Identity, IdentityChange, Session, SessionDetail, User } from './schemas.js';

export const API_SCHEMA_FILE = 'admin-api.schema.json';

/** Shapes answers share, published once under `definitions` and referred to by `$ref`. */
const DEFINITIONS: Record<string, TSchema> = { Session, SessionDetail, Activity, Identity, IdentityChange, Decision, User, Device, BoundDevice, Explanation, Policy };

/** What goes in a route's entry: the parts it has, and the answer (in its media type when not JSON). */
function exchange(key: RouteKey): Record<string, unknown> {
  const spec: RouteSpec = ADMIN_ROUTES[key];
  const parts = (['params', 'query', 'body'] as const).filter((p) => spec[p] !== undefined);
  const response = spec.contentType ? { ...spec.response, contentMediaType: spec.contentType } : spec.response;
  return {
    title: key,
    description: `${spec.summary}.${spec.open ? ' Open: no admin token.' : ''}`,
    type: 'object',
    properties: { ...Object.fromEntries(parts.map((p) => [p, spec[p]])), response },
    required: ['response'],
  };
}

/**
 * The document: a JSON Schema (draft-07) whose `definitions` are the shared shapes, the error answer
 * and one entry per route (`"GET /admin/sessions/:id"`: an object of its `params`, `query`, `body`
 * and `response`), in table order. Plain JSON: TypeBox's symbol-keyed metadata and the router's
 * `errorMessage` sentences are dropped, and each occurrence of a shared shape becomes a `$ref`.
 */
export function apiSchemaDocument(): Record<string, unknown> {
  const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (key: string, v: unknown) => (key === 'errorMessage' ? undefined : v)));
  const shared = Object.entries(DEFINITIONS).map(([name, schema]) => [name, plain(schema)] as const);
  const named = new Map(shared.map(([name, schema]) => [JSON.stringify(schema), name]));
  // The replacer sees the value itself first (key ''): a definition is not replaced by a $ref to itself.
  const refs = (value: unknown): unknown =>
    JSON.parse(
      JSON.stringify(plain(value), (key: string, v: unknown) => {
        if (key === '' || v === null || typeof v !== 'object') return v;
        const name = named.get(JSON.stringify(v));
        return name ? { $ref: `#/definitions/${name}` } : v;
      }),
    );
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Gatehouse admin API',
    description:
      'Every route of the admin listener (docs/admin-api.md), one definition each, named "METHOD /path" (`:name`: a path parameter): the JSON Schemas of its `params`, `query` (values as strings), `body` and `response` (the answer: 200, or 201 for a creation). Every error answers `Error`.',
    definitions: {
      ...Object.fromEntries(ROUTE_KEYS.map((key) => [key, refs(exchange(key))])),
      Error: plain(ErrorAnswer),
      ...Object.fromEntries(shared.map(([name, schema]) => [name, refs(schema)])),
    },
  };
}

/** Where a route's entry is in the document (a JSON pointer fragment, for $ref or ajv.getSchema). */
export const routePointer = (key: string): string => `#/definitions/${encodeURIComponent(key.replace(/~/g, '~0').replace(/\//g, '~1'))}`;
/** …and its answer's schema. */
export const responsePointer = (key: string): string => `${routePointer(key)}/properties/response`;

/** The JSON text written to schema/ (stable: the same table gives the same bytes). */
export function apiSchemaJson(): string {
  return `${JSON.stringify(apiSchemaDocument(), null, 2)}\n`;
}

export async function writeApiSchema(outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const path = join(outDir, API_SCHEMA_FILE);
  await writeFile(path, apiSchemaJson());
  return path;
}

/* c8 ignore start */
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../../schema', import.meta.url)));
  console.error(`wrote ${await writeApiSchema(outDir)}`);
}
/* c8 ignore stop */
