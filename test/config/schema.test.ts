// The published JSON Schemas are generated from the same TypeBox source as the runtime validation,
// and the committed files are up to date.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { schemaJson, SCHEMA_FILES, writeSchemas } from '../../src/config/write-schema.js';

const root = resolve(import.meta.dirname, '../..');

t.test('schema/*.json match the TypeBox schemas (run `npm run schema` after editing schema.ts)', async (t) => {
  for (const name of Object.keys(SCHEMA_FILES) as Array<keyof typeof SCHEMA_FILES>) {
    t.equal(readFileSync(resolve(root, 'schema', name), 'utf8'), schemaJson(name), name);
  }
});

t.test('writeSchemas writes both files with $schema and title', async (t) => {
  const dir = t.testdir({});
  const written = await writeSchemas(`${dir}/out`);
  t.same(written.map((p) => p.slice(dir.length)), ['/out/gateway.schema.json', '/out/app.schema.json']);
  const gw = JSON.parse(readFileSync(written[0]!, 'utf8')) as Record<string, unknown>;
  t.equal(gw.$schema, 'http://json-schema.org/draft-07/schema#');
  t.match(gw.title, /gateway/);
  t.same((gw.required as string[]).sort(), ['admin', 'apps', 'listen', 'session', 'store']);
});

t.test('the published schemas accept demo-shaped files (as an editor would check them)', async (t) => {
  const ajv = new Ajv({ strict: false });
  ajv.addFormat('date-time', true);
  const check = (schema: string, file: string) => {
    const validate = ajv.compile(JSON.parse(readFileSync(resolve(root, 'schema', schema), 'utf8')) as object);
    t.ok(validate(parse(readFileSync(resolve(import.meta.dirname, 'fixtures/demo', file), 'utf8'))), `${file}: ${ajv.errorsText(validate.errors)}`);
  };
  check('gateway.schema.json', 'gateway.yaml');
  check('app.schema.json', 'config/apps/whoami.yaml');
  check('app.schema.json', 'config/apps/public.yaml');
});
