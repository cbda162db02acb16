// Writes the published JSON Schemas (schema/gateway.schema.json, schema/app.schema.json) from the
// same TypeBox definitions the loader validates with. Editors with YAML support (e.g. the
// yaml-language-server `# yaml-language-server: $schema=…` comment) then check files as you type.
//   node dist/config/write-schema.js [outDir]      (default: <package>/schema)
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppFile, GatewayFile } from './schema.js';

export const SCHEMA_FILES = {
  'gateway.schema.json': { title: 'Gatehouse gateway configuration (gateway.yaml)', schema: GatewayFile },
  'app.schema.json': { title: 'Gatehouse application (apps/*.yaml)', schema: AppFile },
} as const;

/** The JSON text of one published schema (stable: the same input gives the same bytes). */
export function schemaJson(name: keyof typeof SCHEMA_FILES): string {
  const { title, schema } = SCHEMA_FILES[name];
  // JSON.stringify drops TypeBox's symbol-keyed metadata, leaving plain JSON Schema.
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title, ...schema }, null, 2)}\n`;
}

export async function writeSchemas(outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const name of Object.keys(SCHEMA_FILES) as Array<keyof typeof SCHEMA_FILES>) {
    const path = join(outDir, name);
    await writeFile(path, schemaJson(name));
    written.push(path);
  }
  return written;
}

/* c8 ignore start */
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? fileURLToPath(new URL('../../schema', import.meta.url)));
  for (const path of await writeSchemas(outDir)) console.error(`wrote ${path}`);
}
/* c8 ignore stop */
