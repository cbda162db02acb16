// The admin API as one published document (schema/admin-api.schema.json, next to the config
// schemas; also served at GET /admin/schema): every route of routes.ts with the JSON Schemas of its
// path parameters, query, body and answer. `npm run schema` writes it; a test checks the committed
// file is what this code makes, and that the gateway's answers match it.
//   node dist/admin/api-schema.js [outDir]      (default: <package>/schema)
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ADMIN_ROUTES, ROUTE_KEYS } from './routes.js';
import type { TSchema } from '@sinclair/typebox';
import { Policy } from '../config/schema.js';
import { Explanation } from './schemas-policy.js';
import { Activity, BoundDevice, Decision, Device, ErrorAnswer, Identity, IdentityChange, Session, SessionDetail, User } from './schemas.js';

export const API_SCHEMA_FILE = 'admin-api.schema.json';

/** Shapes answers share, published once under `definitions` and referred to by `$ref`. */
const DEFINITIONS: Record<string, TSchema> = { Session, SessionDetail, Activity, Identity, IdentityChange, Decision, User, Device, BoundDevice, Explanation, Policy };

/**
 * The document: plain JSON (TypeBox's symbol-keyed metadata dropped), routes in table order, each
 * occurrence of a shared shape replaced by its `$ref` (matched by its JSON text).
 */
export function apiSchemaDocument(): Record<string, unknown> {
  const named = new Map(Object.entries(DEFINITIONS).map(([name, schema]) => [JSON.stringify(schema), name]));
  // The replacer sees the value itself first (key ''): a definition is not replaced by a $ref to itself.
  const refs = (value: unknown): unknown =>
    JSON.parse(
      JSON.stringify(value, (key: string, v: unknown) => {
        if (key === '' || v === null || typeof v !== 'object') return v;
        const name = named.get(JSON.stringify(v));
        return name ? { $ref: `#/definitions/${name}` } : v;
      }),
    );
  const definitions = Object.fromEntries(Object.entries(DEFINITIONS).map(([name, schema]) => [name, refs(schema)]));
  const routes = Object.fromEntries(ROUTE_KEYS.map((key) => [key, refs(ADMIN_ROUTES[key])]));
  return {
    title: 'Gatehouse admin API',
    description:
      'Every route of the admin listener (docs/admin-api.md). Each entry of `routes` holds JSON Schemas (draft-07) for its `params` (path parameters, `:name` in the path), `query` (values as strings), `body` and `response` (the answer: 200, or 201 for a creation); `open` routes need no admin token. Every error answers `error`; `$ref`s point into `definitions` of this document.',
    error: JSON.parse(JSON.stringify(ErrorAnswer)) as unknown,
    routes,
    definitions,
  };
}

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
