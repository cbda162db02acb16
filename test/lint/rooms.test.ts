// The import direction between the rooms of src/ is enforced by lint (lint/rooms.js): each case
// lints a small source file as if it lived at the given place in src/, with the project's own
// eslint.config.js, and checks the rule fires on an import that breaks the direction and stays
// quiet on a legal one. One run of the eslint CLI shows `npm run lint` fails on such a file.
import t from 'tap';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ESLint } from 'eslint';

const ROOT = resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: ROOT });

/** The messages of the rooms rule for `code` placed at `file` (relative to the repository). */
async function rooms(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'gatehouse/rooms').map((m) => m.message);
}

t.test('an import that breaks the direction is an error naming the rooms', async (t) => {
  const cases: Array<[file: string, code: string, expected: RegExp]> = [
    ['src/policy/bad.ts', `import { Gateway } from '../gateway.js';\nexport const g = Gateway;\n`, /only the CLI imports the composition root/],
    ['src/policy/bad.ts', `import { parseDuration } from '../config/duration.js';\nexport const d = parseDuration;\n`, /src\/policy may not import src\/config .*nothing of the gateway/],
    ['src/config/bad.ts', `import type { Store } from '../store/types.js';\nexport type S = Store;\n`, /src\/config may not import types from src\/store/],
    ['src/store/sqlite/bad.ts', `import { loadConfig } from '../../config/load.js';\nexport const l = loadConfig;\n`, /src\/store may not import src\/config \(config\/load\.js\)/],
    ['src/admin/bad.ts', `import type { Gateway } from '../gateway.js';\nexport type G = Gateway;\n`, /only the CLI imports the composition root.*admin/],
    ['src/login/bad.ts', `export { Gateway } from '../gateway.js';\n`, /only the CLI imports the composition root/],
    ['src/pipeline/bad.ts', `export const m = () => import('../admin/server.js');\n`, /src\/pipeline may not import src\/admin/],
    ['src/auth/bad.ts', `import { Pipeline } from '../pipeline/index.js';\nexport const p = Pipeline;\n`, /src\/auth may not import src\/pipeline/],
    ['src/newroom/bad.ts', `export const x = 1;\n`, /src\/newroom is not a room in lint\/rooms\.js/],
  ];
  for (const [file, code, expected] of cases) {
    const messages = await rooms(file, code);
    t.equal(messages.length, 1, `${file}: one error for ${code.split('\n')[0]}`);
    t.match(messages[0], expected, file);
  }
});

t.test('imports along the direction pass', async (t) => {
  const cases: Array<[file: string, code: string]> = [
    ['src/config/ok.ts', `import { evaluate } from '../policy/evaluate.js';\nexport const e = evaluate;\n`],
    ['src/store/sqlite/ok.ts', `import type { GatewayConfig } from '../../config/types.js';\nimport type { Store } from '../types.js';\nexport type C = [GatewayConfig, Store];\n`],
    ['src/admin/ok.ts', `import type { Revoker } from '../auth/revoker.js';\nimport { parseDuration } from '../config/duration.js';\nexport type R = Revoker;\nexport const d = parseDuration;\n`],
    ['src/cli-gateway.ts', `import { Gateway } from './gateway.js';\nexport const g = Gateway;\n`],
    ['src/policy/ok.ts', `import { isIP } from 'node:net';\nimport { sibling } from './types.js';\nexport const x = [isIP, sibling];\n`],
  ];
  for (const [file, code] of cases) t.same(await rooms(file, code), [], `${file} passes`);
});

t.test('npm run lint (the eslint CLI) exits non-zero on such a file', async (t) => {
  const bin = resolve(ROOT, 'node_modules/.bin/eslint');
  const child = execFile(bin, ['--stdin', '--stdin-filename', 'src/policy/bad.ts'], { cwd: ROOT });
  child.stdin?.end(`import type { Gateway } from '../gateway.js';\nexport type G = Gateway;\n`);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((done) => child.once('close', done));
  t.equal(code, 1, 'exit code 1');
  t.match(out, /gatehouse\/rooms/);
});
