// Checks a request's part (path parameters, query, a body object) against its schema from the
// route table, and turns the first problem into the one 400 it deserves: an unknown name first (in
// the order given), then the first declared field at fault, named by its path (`identity.groups`)
// with the schema's `errorMessage` ("must be …") or a sentence from its type. The validators are the
// build's (validators.ts), loaded on the first check; a schema without one is compiled on first use,
// once (ajv is loaded then, as config/validate.ts does).
import type { TObject, TSchema } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { newAjv } from '../config/validate.js';
import { HttpError } from './http-error.js';
import { loadPrecompiledChecks } from './validators.js';

let validators: Map<TSchema, ValidateFunction> | undefined;
let ajv: ReturnType<typeof newAjv> | undefined;

/** Whether this process checks with the build's ready-made validators (for tests). */
export function precompiledChecks(): boolean {
  return (validators ??= loadPrecompiledChecks()).size > 0;
}

/**
 * Validates `value` against `schema`; throws a 400 naming the field. `what` names the kind of field
 * in the message for an unknown one ("query parameter", "field"); `prefix` is where the value sits
 * in the request ("identity.").
 */
export function check(schema: TObject, value: object, what: string, prefix = ''): void {
  validators ??= loadPrecompiledChecks();
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = (ajv ??= newAjv()).compile(schema)));
  if (!validate(value)) throw refusal(schema, validate.errors ?? [], what, prefix);
}

type Node = TSchema & { properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; enum?: string[]; errorMessage?: string };

/** The path of an error's value (JSON pointer segments), up to the first list index. */
function pathOf(e: ErrorObject): string[] {
  const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const index = segments.findIndex((s) => /^[0-9]+$/.test(s));
  const missing = (e.params as { missingProperty?: string }).missingProperty;
  return index >= 0 ? segments.slice(0, index) : missing ? [...segments, missing] : segments;
}

function schemaAt(schema: Node, path: string[]): Node | undefined {
  let node: Node | undefined = schema;
  for (const name of path) node = (node?.anyOf?.find((b) => b.properties) ?? node)?.properties?.[name];
  return node;
}

/** "must be …" from a schema's type, when it carries no errorMessage. */
function mustBe(node: Node | undefined): string {
  if (!node) return 'is not valid';
  if (node.errorMessage) return node.errorMessage;
  if (node.anyOf) return mustBe(node.anyOf.find((b) => b.type !== 'null'));
  if (node.enum) return `must be one of ${node.enum.join(', ')}`;
  switch (node.type) {
    case 'string':
      return 'must be a string';
    case 'boolean':
      return 'must be true or false';
    case 'array':
      return node.items?.type === 'string' ? 'must be a list of strings' : 'must be a list';
    case 'object':
      return 'must be an object';
    default:
      return `must be of type ${String(node.type)}`;
  }
}

function refusal(schema: TObject, errors: ErrorObject[], what: string, prefix: string): HttpError {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  if (unknown) {
    const parent = pathOf(unknown);
    const name = prefix + [...parent, (unknown.params as { additionalProperty: string }).additionalProperty].join('.');
    const allowed = Object.keys(schemaAt(schema as Node, parent)?.properties ?? {});
    return new HttpError(400, `unknown ${what} "${name}" (allowed: ${allowed.join(', ')})`, name);
  }
  const order = Object.keys(schema.properties);
  const first = order.map((n) => errors.find((e) => pathOf(e)[0] === n)).find((e) => e !== undefined) ?? (errors[0] as ErrorObject);
  const path = pathOf(first);
  const param = prefix + path.join('.');
  const message = first.keyword === 'required' ? 'is required' : mustBe(schemaAt(schema as Node, path));
  return new HttpError(400, `${param} ${message}`, param);
}
