// The rooms of src/ and what each may import: the direction of dependencies, enforced by `npm run
// lint` (rule `gatehouse/rooms`). docs/architecture.md explains the table; test/lint/rooms.test.ts
// proves the rule fires. A room is a folder of src/ (src/policy/ → policy) or, at the top level,
// one of the named files below. A new folder must be added here before lint accepts it.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Top-level files of src/ and the room each belongs to; any other top-level file is `cli`. */
const TOP_LEVEL = {
  'gateway.ts': 'gateway',
  'context.ts': 'context',
  'errors.ts': 'errors',
  'log.ts': 'log',
  'log-pretty.ts': 'log',
  'metrics.ts': 'metrics',
  'cli-args.ts': 'cli-args',
};

/** Leaves that nearly every room may use: logging and the closed error table. */
const LEAVES = ['log', 'errors'];

/**
 * room → { uses: rooms it may import anything from, types: rooms it may import only types from }.
 * `'*'` means any room. Nothing lists `gateway` but `cli`: only the CLI imports the composition root.
 */
export const ROOMS = {
  // Pure evaluation and the one page template: nothing of the gateway.
  policy: { uses: [], types: [] },
  pages: { uses: [], types: [] },
  log: { uses: [], types: [] },
  errors: { uses: [], types: [] },
  'cli-args': { uses: [], types: [] },
  // Config knows policy (it compiles the app files' rules) and nothing else.
  config: { uses: ['policy'], types: ['log'] },
  context: { uses: ['errors'], types: ['config', 'policy'] },
  // Storage drivers: types of what they store, never the code that produced it.
  store: { uses: ['log'], types: ['config', 'policy', 'errors'] },
  routing: { uses: [], types: ['config'] },
  metrics: { uses: ['context', ...LEAVES], types: ['config', 'policy'] },
  auth: { uses: ['policy', 'config', ...LEAVES], types: ['store', 'context'] },
  audit: { uses: ['auth', 'policy', 'context', ...LEAVES], types: ['store', 'identity', 'config'] },
  // SCIM mounts on the admin listener: identity/ uses admin's router and token file.
  identity: { uses: ['store', 'policy', 'config', 'admin', 'context', ...LEAVES], types: ['auth'] },
  // Device identity: pages and JSON steps on app hosts (beside login), admin routes, identity changes.
  devices: { uses: ['admin', 'login', 'pages', 'store', 'policy', 'config', 'auth', 'context', ...LEAVES], types: ['identity', 'pipeline', 'store'] },
  pipeline: {
    uses: ['context', 'metrics', 'pages', 'policy', 'routing', 'config', 'auth', 'audit', 'identity', ...LEAVES],
    types: ['store'],
  },
  // The outer rooms get small interfaces (AdminDeps, LoginHost), never the gateway.
  admin: { uses: ['config', 'policy', 'store', 'cli-args', ...LEAVES], types: ['audit', 'auth', 'metrics', 'context'] },
  // Back-channel logout and refresh change live identities through identity/'s IdentityChanges
  // (and count events on its shared counter).
  login: { uses: ['admin', 'audit', 'auth', 'config', 'context', 'identity', 'pages', 'pipeline', 'policy', 'process', 'routing', ...LEAVES], types: ['store'] },
  console: { uses: ['admin', 'pages', 'config', 'policy', 'context', ...LEAVES], types: ['store', 'audit', 'auth'] },
  process: { uses: ['pipeline', 'config', 'auth', 'metrics', 'context', ...LEAVES], types: ['store'] },
  // The composition root wires every room; the CLI starts it.
  gateway: { uses: ['*'], types: [], except: ['cli'] },
  cli: { uses: ['*'], types: [] },
};

/** The room of an absolute path under src/, or null outside src/. */
export function roomOf(file) {
  const rel = relative(SRC, file);
  if (rel.startsWith('..') || rel === '' || rel.startsWith(sep)) return null;
  const parts = rel.split(sep);
  if (parts.length > 1) return parts[0];
  const name = parts[0].replace(/\.js$/, '.ts');
  return TOP_LEVEL[name] ?? 'cli';
}

function allowed(from, to, typeOnly) {
  const rule = ROOMS[from];
  if (rule.except?.includes(to)) return false;
  if (rule.uses.includes('*') || rule.uses.includes(to)) return true;
  return typeOnly && rule.types.includes(to);
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports between the rooms of src/ follow the table in lint/rooms.js' },
    schema: [],
    messages: {
      denied: 'src/{{from}} may not import {{kind}}src/{{to}} ({{target}}): {{from}} may use {{uses}}{{types}}. See lint/rooms.js and docs/architecture.md.',
      gateway: 'only the CLI imports the composition root (src/gateway.ts); give {{from}} a small interface instead.',
      unknown: 'src/{{room}} is not a room in lint/rooms.js: add it there with what it may import.',
    },
  },
  create(context) {
    const from = roomOf(context.filename);
    if (from === null) return {};
    if (!ROOMS[from]) {
      return {
        Program(node) {
          context.report({ node, messageId: 'unknown', data: { room: from } });
        },
      };
    }
    const check = (node, source, typeOnly) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return; // packages and node: builtins
      const target = resolve(dirname(context.filename), source);
      const to = roomOf(target);
      if (to === null || to === from) return;
      if (!ROOMS[to]) return context.report({ node, messageId: 'unknown', data: { room: to } });
      if (allowed(from, to, typeOnly)) return;
      if (to === 'gateway') return context.report({ node, messageId: 'gateway', data: { from } });
      const r = ROOMS[from];
      context.report({
        node,
        messageId: 'denied',
        data: {
          from,
          to,
          kind: typeOnly ? 'types from ' : '',
          target: relative(SRC, target),
          uses: r.uses.length ? r.uses.join(', ') : 'nothing of the gateway',
          types: r.types.length ? `, and only types from ${r.types.join(', ')}` : '',
        },
      });
    };
    const typeOnlyImport = (node) =>
      node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.type === 'ImportSpecifier' && s.importKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source.value, typeOnlyImport(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, node.exportKind === 'type'),
      ExportAllDeclaration: (node) => check(node, node.source.value, node.exportKind === 'type'),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value, false),
      TSImportType: (node) => {
        const arg = node.argument;
        const value = arg?.literal?.value ?? arg?.value;
        check(node, value, true);
      },
    };
  },
};

export const plugin = { meta: { name: 'gatehouse' }, rules: { rooms: rule } };
