// One parsed YAML file and the means to point at any part of it: a JSON pointer (as ajv reports,
// "/policies/0/include") becomes a node, and a node becomes `line:col` through the yaml LineCounter.
// Every config problem is reported through a FileReport so that it carries its file and position.
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ConfigProblem } from './types.js';

/** Where to point for a path: the value itself, or the key that holds it (for unknown/extra keys). */
export type Anchor = 'value' | 'key';

export interface ParsedFile {
  /** Absolute path. */
  path: string;
  /** Path shown in messages (relative to gateway.yaml's directory). */
  display: string;
  raw: Buffer;
  doc: Document.Parsed;
  lines: LineCounter;
}

/**
 * Bounds on every YAML text Gatehouse reads (config files, the users file, admin request bodies):
 * a "billion laughs" alias bomb or a huge file is a clear problem (a config error, a 400), never a
 * 500 or an event loop busy for seconds. The largest real app file is a few KiB.
 */
export const YAML_LIMITS = { maxBytes: 1024 * 1024, maxAliasCount: 100 } as const;

export function parseYaml(path: string, display: string, raw: Buffer): ParsedFile {
  const lines = new LineCounter();
  const text = raw.length > YAML_LIMITS.maxBytes ? '' : raw.toString('utf8'); // reported by reportSyntax
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { path, display, raw, doc, lines };
}

/** "/policies/0/include" → ["policies", 0, "include"] (JSON pointer unescaping included). */
export function pointerSegments(pointer: string): Array<string | number> {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** ["policies", 0, "include"] → "policies[0].include" (for messages). */
export function displayPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

interface Located {
  node: Node | null;
  key: Node | null;
}

/** Walk as far down `segments` as the document goes; returns the deepest node reached and its key. */
function locate(file: ParsedFile, segments: ReadonlyArray<string | number>): Located {
  let node: unknown = file.doc.contents;
  let key: Node | null = null;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      key = isNode(pair.key) ? pair.key : null;
      // `name:` with no value yields no node, or an empty one: point at the key then.
      node = pair.value;
      if (!isNode(node) || (node.range && node.range[0] === node.range[1])) return { node: null, key };
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!isNode(item)) break;
      key = null;
      node = item;
    } else {
      break;
    }
  }
  return { node: isNode(node) ? node : null, key };
}

function offsetOf(file: ParsedFile, segments: ReadonlyArray<string | number>, anchor: Anchor): number {
  const { node, key } = locate(file, segments);
  if (anchor === 'key' && key?.range) return key.range[0];
  if (node?.range) return node.range[0];
  if (key?.range) return key.range[0];
  return 0;
}

/** Collects the problems of one file, each positioned by a path into the document. */
export class FileReport {
  constructor(
    readonly file: ParsedFile,
    private readonly sink: ConfigProblem[],
  ) {}

  /** Report at a path given as segments or a JSON pointer. */
  /** Values whose problem is already reported (an unset ${VAR}): later checks of them stay quiet. */
  readonly muted = new Set<number>();

  at(path: ReadonlyArray<string | number> | string, message: string, anchor: Anchor = 'value'): void {
    const segments = typeof path === 'string' ? pointerSegments(path) : path;
    const offset = offsetOf(this.file, segments, anchor);
    if (!this.muted.has(offset)) this.atOffset(offset, message);
  }

  atOffset(offset: number, message: string): void {
    const { line, col } = this.file.lines.linePos(offset);
    this.sink.push({ file: this.file.display, line, col, message });
  }

  /** YAML syntax errors (and the multi-document error) of the parsed file. */
  reportSyntax(): boolean {
    if (this.file.raw.length > YAML_LIMITS.maxBytes) {
      this.atOffset(0, `YAML: the file is larger than ${YAML_LIMITS.maxBytes / 1024} KiB`);
      return true;
    }
    const doc = this.file.doc;
    let bad = doc.errors.length > 0;
    for (const err of doc.errors) this.atOffset(err.pos[0], `YAML: ${yamlMessage(err.message)}`);
    visit(doc, {
      Alias: (_key, node) => {
        if (node.resolve(doc) === undefined) {
          bad = true;
          this.atOffset(node.range?.[0] ?? 0, `YAML: unknown alias *${node.source}`);
        }
      },
    });
    return bad;
  }
}

function yamlMessage(s: string): string {
  const first = s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return first.startsWith('Source contains multiple documents') ? 'a config file holds one document; remove the "---" separator' : first;
}
