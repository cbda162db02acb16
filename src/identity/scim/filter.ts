// SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2), parsed strictly into the store's
// filter tree. Hand-written rather than taken from npm: scim2-parse-filter (the maintained,
// dependency-free candidate) reads `emails[type eq "work"].value eq "x"` as two unrelated
// conditions joined by `and`, and has no PATCH path parser; scim-query-filter-parser only yields a
// generic ABNF parse tree.
//
// Checklist (§3.4.2.2):
//  - operators eq ne co sw ew gt ge lt le pr, and/or/not, grouping ( ) and valuePath [ ]   tested
//  - precedence: not > and > or; attribute names and operators case-insensitive           tested
//  - compValue: JSON string, number, true, false, null                                      tested
//  - attrPath with an optional schema URN prefix and one sub-attribute                      tested
//  - an unparseable filter is 400 invalidFilter; a bad PATCH path 400 invalidPath            tested
// Beyond the RFC, for Microsoft Entra: `emails[type eq "work"].value eq "x"` (a valuePath with a
// sub-attribute compared) means one email that is both. Bounds: 4 KiB, 64 terms, nesting 16.
import type { AttrPath, CompareOp, ScimFilter } from '../../store/scim-types.js';

export class ScimSyntaxError extends Error {
  override name = 'ScimSyntaxError';
}

const COMPARE_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);
const ATTR_NAME = /^\$?[A-Za-z][A-Za-z0-9_-]*$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const MAX_LENGTH = 4096;
const MAX_TERMS = 64;
const MAX_DEPTH = 16;

type Token = { kind: '(' | ')' | '[' | ']'; at: number } | { kind: 'word'; text: string; at: number } | { kind: 'string'; value: string; at: number };

function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw new ScimSyntaxError(`longer than ${MAX_LENGTH} characters`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      tokens.push({ kind: c, at: i++ });
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new ScimSyntaxError(`unterminated string at character ${i + 1}`);
      try {
        tokens.push({ kind: 'string', value: JSON.parse(text.slice(i, j + 1)) as string, at: i });
      } catch {
        throw new ScimSyntaxError(`bad string at character ${i + 1}`);
      }
      i = j + 1;
    } else {
      const m = /^[A-Za-z0-9:._$+-]+/.exec(text.slice(i));
      if (!m) throw new ScimSyntaxError(`unexpected "${c}" at character ${i + 1}`);
      tokens.push({ kind: 'word', text: m[0], at: i });
      i += m[0].length;
    }
  }
  return tokens;
}

/** `urn:…:User:name.sub` → {uri, name, sub}. */
export function parseAttrPath(word: string): AttrPath {
  let uri: string | undefined;
  let rest = word;
  if (/^urn:/i.test(word)) {
    const cut = word.lastIndexOf(':');
    uri = word.slice(0, cut);
    rest = word.slice(cut + 1);
  }
  const parts = rest.split('.');
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p))) throw new ScimSyntaxError(`"${word}" is not an attribute path`);
  return { ...(uri ? { uri } : {}), name: parts[0] as string, ...(parts[1] ? { sub: parts[1] } : {}) };
}

class Parser {
  private i = 0;
  private terms = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    if (t?.kind === 'word' && t.text.toLowerCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  private expect(kind: '(' | ')' | '[' | ']'): void {
    const t = this.peek();
    if (t?.kind !== kind) throw new ScimSyntaxError(`expected "${kind}" ${this.where(t)}`);
    this.i++;
  }

  private where(t: Token | undefined): string {
    return t ? `at character ${t.at + 1}` : `at the end of "${this.text}"`;
  }

  done(): void {
    const t = this.peek();
    if (t) throw new ScimSyntaxError(`unexpected ${t.kind === 'word' ? `"${t.text}"` : t.kind === 'string' ? 'string' : `"${t.kind}"`} ${this.where(t)}`);
  }

  or(depth: number, inValuePath: boolean): ScimFilter {
    if (depth > MAX_DEPTH) throw new ScimSyntaxError(`nested deeper than ${MAX_DEPTH}`);
    let left = this.and(depth, inValuePath);
    while (this.keyword('or')) left = { op: 'or', left, right: this.and(depth, inValuePath) };
    return left;
  }

  private and(depth: number, inValuePath: boolean): ScimFilter {
    let left = this.unary(depth, inValuePath);
    while (this.keyword('and')) left = { op: 'and', left, right: this.unary(depth, inValuePath) };
    return left;
  }

  private unary(depth: number, inValuePath: boolean): ScimFilter {
    if (this.keyword('not')) {
      this.expect('(');
      const filter = this.or(depth + 1, inValuePath);
      this.expect(')');
      return { op: 'not', filter };
    }
    if (this.peek()?.kind === '(') {
      this.i++;
      const inner = this.or(depth + 1, inValuePath);
      this.expect(')');
      return inner;
    }
    return this.term(depth, inValuePath);
  }

  private term(depth: number, inValuePath: boolean): ScimFilter {
    if (++this.terms > MAX_TERMS) throw new ScimSyntaxError(`more than ${MAX_TERMS} comparisons`);
    const t = this.peek();
    if (t?.kind !== 'word') throw new ScimSyntaxError(`expected an attribute name ${this.where(t)}`);
    this.i++;
    const attr = parseAttrPath(t.text);
    if (this.peek()?.kind !== '[') return this.comparison(attr);
    if (inValuePath) throw new ScimSyntaxError(`a "[…]" filter cannot nest ${this.where(this.peek())}`);
    if (attr.sub) throw new ScimSyntaxError(`"${t.text}[" must name a multi-valued attribute without a sub-attribute`);
    this.i++;
    const inner = this.or(depth + 1, true);
    this.expect(']');
    const next = this.peek();
    // Entra: emails[type eq "work"].value eq "x" — the sub-attribute compared on the same element.
    if (next?.kind === 'word' && next.text.startsWith('.')) {
      this.i++;
      const sub = parseAttrPath(next.text.slice(1));
      if (sub.sub || sub.uri) throw new ScimSyntaxError(`"${next.text}" is not a sub-attribute`);
      return { op: 'has', attr, filter: { op: 'and', left: inner, right: this.comparison({ name: sub.name }) } };
    }
    return { op: 'has', attr, filter: inner };
  }

  private comparison(attr: AttrPath): ScimFilter {
    const t = this.peek();
    const op = t?.kind === 'word' ? t.text.toLowerCase() : '';
    if (op === 'pr') {
      this.i++;
      return { op: 'pr', attr };
    }
    if (!COMPARE_OPS.has(op)) throw new ScimSyntaxError(`expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) ${this.where(t)}`);
    this.i++;
    const v = this.peek();
    this.i++;
    if (v?.kind === 'string') return { op: op as CompareOp, attr, value: v.value };
    if (v?.kind === 'word') {
      const w = v.text.toLowerCase();
      if (w === 'true' || w === 'false') return { op: op as CompareOp, attr, value: w === 'true' };
      if (w === 'null') return { op: op as CompareOp, attr, value: null };
      if (NUMBER.test(v.text)) return { op: op as CompareOp, attr, value: Number(v.text) };
    }
    throw new ScimSyntaxError(`expected a value (a "quoted string", number, true, false or null) ${this.where(v)}`);
  }
}

/** A `filter` query parameter. Throws ScimSyntaxError (→ 400 invalidFilter). */
export function parseFilter(text: string): ScimFilter {
  const p = new Parser(tokenize(text), text);
  const f = p.or(0, false);
  p.done();
  return f;
}

/** A PATCH operation's `path`: `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, each with an optional URN. */
export interface PatchPath {
  attr: AttrPath;
  filter?: ScimFilter;
  /** The sub-attribute after a `[filter]`. */
  sub?: string;
}

/** Throws ScimSyntaxError (→ 400 invalidPath). */
export function parsePath(text: string): PatchPath {
  const open = text.indexOf('[');
  if (open < 0) {
    if (!/^\S+$/.test(text)) throw new ScimSyntaxError(`"${text}" is not an attribute path`);
    return { attr: parseAttrPath(text) };
  }
  const close = text.lastIndexOf(']');
  if (close < open) throw new ScimSyntaxError(`"${text}": "[" without "]"`);
  const attr = parseAttrPath(text.slice(0, open));
  if (attr.sub) throw new ScimSyntaxError(`"${text}": a filter applies to a multi-valued attribute, not to a sub-attribute`);
  const filter = parseFilter(text.slice(open + 1, close));
  if (containsValuePath(filter)) throw new ScimSyntaxError(`"${text}": a "[…]" filter cannot nest`);
  const tail = text.slice(close + 1);
  if (tail === '') return { attr, filter };
  if (!tail.startsWith('.') || !ATTR_NAME.test(tail.slice(1))) throw new ScimSyntaxError(`"${text}": expected ".subAttribute" after "]"`);
  return { attr, filter, sub: tail.slice(1) };
}

function containsValuePath(f: ScimFilter): boolean {
  if (f.op === 'has') return true;
  if (f.op === 'and' || f.op === 'or') return containsValuePath(f.left) || containsValuePath(f.right);
  if (f.op === 'not') return containsValuePath(f.filter);
  return false;
}
