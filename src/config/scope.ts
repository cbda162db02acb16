// The per-file context the resolvers work in: where to report, whether a subtree passed the schema,
// and the directory relative paths resolve against.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseDuration } from './duration.js';
import { checkHttpUrl, isLoopbackHost } from './hosts.js';
import { displayPath, type Anchor, type FileReport } from './positions.js';
import type { SchemaResult } from './validate.js';

export type Path = ReadonlyArray<string | number>;

export class Scope {
  constructor(
    readonly report: FileReport,
    readonly schema: SchemaResult,
    /** Directory that relative paths in this file resolve against. */
    readonly dir: string,
  ) {}

  /** The subtree at `path` passed the schema, so it may be read as its static type. */
  ok(...path: Path): boolean {
    return this.schema.ok(path);
  }

  /** The node at `path` has its schema type (e.g. is a list), though items inside may not. */
  shape(...path: Path): boolean {
    return this.schema.shape(path);
  }

  /** Report at `path`; the message is prefixed with the path ("policies[0].include[1]: …"). */
  problem(path: Path, message: string, anchor: Anchor = 'value'): void {
    this.report.at(path, path.length ? `${displayPath(path)}: ${message}` : message, anchor);
  }

  path(p: string): string {
    return resolve(this.dir, p);
  }

  /** A schema-checked duration (or the default) in ms. */
  ms(v: string | undefined, defaultMs: number): number {
    return v === undefined ? defaultMs : parseDuration(v);
  }

  /** Read a PEM file (relative to this file's base directory); reports and returns undefined on failure. */
  async pem(at: Path, file: string): Promise<string | undefined> {
    const abs = this.path(file);
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (err) {
      this.problem(at, `cannot read ${abs}: ${ioReason(err)}`);
      return undefined;
    }
    if (!text.includes('-----BEGIN ')) {
      this.problem(at, `${abs} is not a PEM file (no "-----BEGIN" line)`);
      return undefined;
    }
    return text;
  }

  /** A URL the gateway fetches (jwks_uri, OIDC issuer): https, or http only on a loopback host. */
  httpsUrl(at: Path, url: string): URL | undefined {
    const u = checkHttpUrl(url);
    if ('problem' in u) {
      this.problem(at, u.problem);
      return undefined;
    }
    if (u.value.protocol !== 'https:' && !isLoopbackHost(u.value.hostname)) {
      this.problem(at, `${url} must use https:// (http:// is accepted only on a loopback host)`);
      return undefined;
    }
    return u.value;
  }
}

export function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'ENOTDIR') return 'not a directory';
  return (err as Error).message;
}
