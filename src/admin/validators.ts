// The validators check.ts uses, ready-made: `npm run build` writes dist/admin/validators.generated.cjs
// (write-validators.ts) for every schema a request is checked with, so a gateway's first admin
// request neither loads ajv nor compiles (64–84 ms on a busy machine). The file records a hash of the
// schemas it was made from and is used only when it matches; otherwise, and for tests on src/, each
// schema is compiled on first use, as before.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TSchema } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { ADMIN_ROUTES, ROUTE_KEYS, type RouteSpec } from './routes.js';
import { DeviceIn, IdentityIn } from './schemas-policy.js';

const require = createRequire(import.meta.url);

/** The build's ready-made validators (next to this file in dist/). */
export const PRECOMPILED_CHECKS = './validators.generated.cjs';

/** Every schema a request part is checked with, each once, in a fixed order (v0, v1 … in the generated file). */
export function checkedSchemas(): TSchema[] {
  const parts = ROUTE_KEYS.flatMap((key) => {
    const spec: RouteSpec = ADMIN_ROUTES[key];
    return [spec.params, spec.query];
  });
  return [...new Set([...parts.filter((s): s is TSchema => s !== undefined), IdentityIn, DeviceIn])];
}

/** Identifies the schemas a generated file was made from. */
export function checksHash(schemas = checkedSchemas()): string {
  return createHash('sha256').update(JSON.stringify(schemas)).digest('hex').slice(0, 32);
}

/** The ready-made validators by schema, or an empty map (not built, or built from other schemas). */
export function loadPrecompiledChecks(): Map<TSchema, ValidateFunction> {
  const schemas = checkedSchemas();
  try {
    const m = require(PRECOMPILED_CHECKS) as Record<string, ValidateFunction> & { hash: string };
    if (m.hash === checksHash(schemas)) return new Map(schemas.map((s, i) => [s, m[`v${i}`] as ValidateFunction]));
  } catch {
    // not built (tests on src/): compiled on first use instead
  }
  return new Map();
}
