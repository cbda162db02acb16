// docs/admin-api.md's JSON examples against the published schemas: every field an example shows is
// a field of its route's answer (or of the error answer), at the same place, and an object that
// abbreviates nothing (no "…" key) shows every field. The answers themselves are checked whole
// against the same schemas in api-schema.test.ts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { apiSchemaDocument } from '../../src/admin/api-schema.js';

type Schema = Record<string, unknown> & { $ref?: string; anyOf?: Schema[]; type?: string; items?: Schema; properties?: Record<string, Schema>; patternProperties?: Record<string, Schema>; additionalProperties?: boolean | Schema };
const doc = apiSchemaDocument() as { definitions: Record<string, Schema> };
/** A route's answer schema (its definition's `response`). */
const answerOf = (route: string): Schema | undefined => doc.definitions[route]?.properties?.response;
const root = resolve(import.meta.dirname, '../..');

/** Each ```json block with the route of the section it is in (### `METHOD /path`, or the ## section's only route). */
export function examples(markdown: string): Array<{ route: string; json: string; line: number }> {
  const out: Array<{ route: string; json: string; line: number }> = [];
  let route = '';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heading = /^(#{2,3}) (.*)$/.exec(line);
    if (heading) {
      const named = /`((?:GET|POST|PUT|PATCH|DELETE) \/[^`\s]*)`/.exec(heading[2] as string);
      if (named) route = (named[1] as string).replace(/\{([a-z_]+)\}/g, ':$1');
      else if (heading[1] === '##') route = /^## Policy test/.test(line) ? 'POST /admin/policy-test' : '';
      continue;
    }
    if (line !== '```json') continue;
    const start = i + 1;
    while (lines[++i] !== '```') if (i >= lines.length) throw new Error(`unclosed block at line ${start}`);
    out.push({ route, json: lines.slice(start, i).join('\n'), line: start });
  }
  return out;
}

const deref = (s: Schema): Schema => (s.$ref ? deref(doc.definitions[s.$ref.replace('#/definitions/', '')] as Schema) : s);

/** Paths of the fields `value` has that `schema` does not describe ("…" keys are placeholders). */
export function strayFields(schema: Schema, value: unknown, at = ''): string[] {
  const s = deref(schema);
  if (s.anyOf) {
    const tries = s.anyOf.map((b) => strayFields(b, value, at));
    return tries.find((x) => x.length === 0) ?? tries.sort((a, b) => a.length - b.length)[0] ?? [];
  }
  if (Array.isArray(value)) return s.type === 'array' && s.items ? value.flatMap((v, i) => strayFields(s.items as Schema, v, `${at}[${i}]`)) : [];
  if (value === null || typeof value !== 'object' || s.type !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    if (k === '…') return [];
    const sub = s.properties?.[k] ?? Object.values(s.patternProperties ?? {})[0] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (sub) return strayFields(sub, v, `${at}.${k}`);
    return s.additionalProperties === false ? [`${at}.${k}`] : [];
  });
}

/** Paths of the fields `schema` requires that `value` lacks, in objects that abbreviate nothing (no "…" key). */
export function missingFields(schema: Schema, value: unknown, at = ''): string[] {
  const s = deref(schema);
  if (s.anyOf) return s.anyOf.map((b) => missingFields(b, value, at)).sort((a, b) => a.length - b.length)[0] ?? [];
  if (Array.isArray(value)) return s.type === 'array' && s.items ? value.flatMap((v, i) => missingFields(s.items as Schema, v, `${at}[${i}]`)) : [];
  if (value === null || typeof value !== 'object' || s.type !== 'object' || '…' in value) return [];
  const required = ((s as { required?: string[] }).required ?? []).filter((k) => !(k in value)).map((k) => `${at}.${k}`);
  const inner = Object.entries(value).flatMap(([k, v]) => {
    const sub = s.properties?.[k] ?? Object.values(s.patternProperties ?? {})[0];
    return sub ? missingFields(sub, v, `${at}.${k}`) : [];
  });
  return [...required, ...inner];
}

t.test('every JSON example of docs/admin-api.md names only fields its route answers with', async (t) => {
  const found = examples(readFileSync(resolve(root, 'docs/admin-api.md'), 'utf8'));
  t.ok(found.length >= 12, `${found.length} examples`);
  for (const { route, json, line } of found) {
    const answer = route.includes(' ') ? answerOf(route) : undefined;
    t.ok(answer, `line ${line}: in the section of a route of the table (${route || 'none'})`);
    if (!answer) continue;
    const value = JSON.parse(json) as Record<string, unknown>;
    const schema = 'error' in value && 'param' in value ? (doc.definitions.Error as Schema) : answer;
    t.same(strayFields(schema, value), [], `line ${line} (${route}): no field the schema lacks`);
    t.same(missingFields(schema, value), [], `line ${line} (${route}): every field, where the example abbreviates nothing ("…")`);
  }
});

t.test("every query parameter a route takes is documented: in the route's section or table row (limit and cursor: in the paging rules)", async (t) => {
  const markdown = readFileSync(resolve(root, 'docs/admin-api.md'), 'utf8');
  const sections = markdown.split(/^(?=##+ )/m);
  const paging = markdown.split('\n- **').find((b) => b.startsWith('Pages**')) ?? '';
  for (const [route, entry] of Object.entries(doc.definitions).filter(([k]) => k.includes(' '))) {
    const names = Object.keys(entry.properties?.query?.properties ?? {});
    if (names.length === 0) continue;
    const shown = route.replace(/:([a-z_]+)/g, '{$1}');
    const [method, path] = shown.split(' ') as [string, string];
    const text = [
      sections.find((x) => x.startsWith(`### \`${shown}\``)) ?? '',
      markdown.split('\n').find((l) => l.startsWith(`| \`${shown}\``)) ?? '',
      method === 'GET' && paging.includes(`\`${path}\``) ? paging : '',
    ].join('\n');
    const missing = names.filter((n) => !text.includes(`\`${n}\``) && !text.includes(`${n}=`));
    t.same(missing, [], `${route}: ${names.join(', ')}`);
  }
});

t.test('the check finds a stray field, and follows $ref, anyOf and records', async (t) => {
  const sessions = answerOf('GET /admin/sessions') as Schema;
  t.same(strayFields(sessions, { sessions: [{ id: 'x', colour: 'red', '…': '…' }], next_cursor: null }), ['.sessions[0].colour']);
  const policyTest = answerOf('POST /admin/policy-test') as Schema;
  t.same(strayFields(policyTest, { gained: [], lost: [{ previous_policy: 'x' }] }), [], 'the what-if branch of the union');
  t.same(strayFields(policyTest, { explanation: [{ rules: [{ clause: 'include', why: 'x' }] }] }), ['.explanation[0].rules[0].why']);
  const device = answerOf('GET /admin/devices/:id') as Schema;
  t.same(strayFields(device, { posture: { disk_encrypted: { value: true, when: 'now' } } }), ['.posture.disk_encrypted.when'], 'a record of facts');
  t.same(missingFields(sessions, { sessions: [{ id: 'x' }], next_cursor: null }).length, 20, 'a session without its 20 other required fields');
  t.same(missingFields(sessions, { sessions: [{ id: 'x', '…': '…' }] }), ['.next_cursor'], 'an abbreviated one is not checked inside');
});
