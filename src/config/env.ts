// `${NAME}` environment substitution, applied to every string value of a parsed YAML document in
// place (before schema validation, so a substituted value is validated like a written one).
// `$${` writes a literal `${`. Keys are never substituted. Values stay strings: `workers: ${N}` is a
// string, so environment variables are for string settings (secrets, URLs, paths, host:port).
import { isPair, isScalar, isSeq, visit, type Document, type Node, type Pair } from 'yaml';
import { displayPath, type FileReport } from './positions.js';

const REF = /\$\$\{|\$\{([^}]*)\}?/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function substituteEnv(doc: Document.Parsed, env: NodeJS.ProcessEnv, report: FileReport): void {
  visit(doc, {
    Scalar(key, node, ancestry) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const where = () => displayPath(segmentsOf(ancestry, node));
      const offset = node.range?.[0] ?? 0;
      const fail = (message: string) => {
        report.atOffset(offset, `${where()}: ${message}`);
        report.muted.add(offset);
      };
      node.value = node.value.replace(REF, (match: string, name: string | undefined) => {
        if (match === '$${') return '${';
        if (!match.endsWith('}') || name === undefined || !NAME.test(name)) {
          fail(`bad environment reference ${JSON.stringify(match)} (write \${NAME}, or $\${ for a literal \${)`);
          return match;
        }
        const value = env[name];
        if (value === undefined) {
          fail(`environment variable ${name} is not set`);
          return match;
        }
        return value;
      });
    },
  });
}

/** The key path of `node` from its visit() ancestry: [Document, Map, Pair, Seq, …]. */
function segmentsOf(ancestry: readonly unknown[], node: Node): Array<string | number> {
  const out: Array<string | number> = [];
  const chain = [...ancestry, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const here = chain[i];
    const next = chain[i + 1];
    if (isPair(here)) {
      const k = (here as Pair).key;
      out.push(isScalar(k) ? String(k.value) : '?');
    } else if (isSeq(here)) {
      out.push(here.items.indexOf(next as never));
    }
  }
  return out;
}
