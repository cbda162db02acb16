// Posture reports (PUT /admin/devices/{id}/posture): a JSON object of facts, each checked against
// its declared type (built-in or posture.facts). Every problem is named; one bad fact refuses the
// whole report, so nothing changes. Versions are kept as text and compared part by part.
import type { PostureFact, PostureFactType, PostureValue } from './types.js';
import { parseVersion } from './versions.js';

/** A report larger than this is refused before it is parsed (413). */
export const MAX_REPORT_BYTES = 16 * 1024;
const MAX_STRING = 256;

/** A report refused for its content (400): the message names every bad fact. */
export class ReportError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

function check(name: string, type: PostureFactType, v: unknown): string | null {
  switch (type) {
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be true or false (got ${JSON.stringify(v)})`;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : `must be a number (got ${JSON.stringify(v)})`;
    case 'version':
      return typeof v === 'string' && parseVersion(v) ? null : `must be a version like "14.2.1" (got ${JSON.stringify(v)})`;
    case 'string':
      if (typeof v !== 'string') return `must be a string (got ${JSON.stringify(v)})`;
      return v.length > MAX_STRING ? `must be at most ${MAX_STRING} characters` : null;
    default:
      return `has an unknown type for ${name}`;
  }
}

/** The report's facts with their time, or a ReportError naming every bad fact. */
export function parseReport(body: unknown, types: Readonly<Record<string, PostureFactType>>, at: number): Record<string, PostureFact> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ReportError('the report must be a JSON object of facts, e.g. {"disk_encrypted": true}');
  const entries = Object.entries(body as Record<string, unknown>);
  if (entries.length === 0) throw new ReportError('the report has no facts');
  const problems: string[] = [];
  const unknown = entries.filter(([k]) => !Object.hasOwn(types, k)).map(([k]) => k);
  if (unknown.length) problems.push(`unknown fact${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (known: ${Object.keys(types).join(', ')}; declare others in posture.facts)`);
  const facts: Record<string, PostureFact> = {};
  for (const [k, v] of entries) {
    const type = types[k];
    if (!type) continue;
    const p = check(k, type, v);
    if (p) problems.push(`${k} ${p}`);
    else facts[k] = { value: v as PostureValue, at };
  }
  if (problems.length) throw new ReportError(problems.join('; '), unknown[0] ?? problems[0]?.split(' ')[0]);
  return facts;
}
