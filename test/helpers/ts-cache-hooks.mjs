// The module hooks of test/helpers/ts-cache.mjs (they run in a loader thread of their own).
// resolve: a relative "./x.js" imported from a .ts module is "./x.ts" when that file exists (the
// NodeNext convention the sources follow). load: a .ts module is served from the cache, or
// transpiled to an ES module with an inline source map (stack traces and coverage point at the .ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolvePath(fileURLToPath(import.meta.url), '../../..');
const dir = join(root, 'node_modules/.cache/gatehouse-ts');
const require = createRequire(import.meta.url);
const project = join(root, 'tsconfig.json');
const TS_FILE = /\.[cm]?ts$/;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.startsWith('file:') && TS_FILE.test(parent) && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, parent);
    if (existsSync(url)) return { url: url.href, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

let compiler = null;
/** TypeScript and the project's options, loaded on the first cache miss only. */
function typescript() {
  if (compiler) return compiler;
  const ts = require('typescript');
  const { config } = ts.readConfigFile(project, ts.sys.readFile);
  const { options } = ts.convertCompilerOptionsFromJson(config?.compilerOptions ?? {}, root);
  const compilerOptions = {
    ...options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    sourceMap: true,
    inlineSourceMap: false,
    inlineSources: false,
    declaration: false,
    declarationMap: false,
    noEmit: false,
    isolatedModules: true,
  };
  compiler = { ts, compilerOptions };
  return compiler;
}

// What shapes the output besides the file: this loader's version, TypeScript's and the tsconfig.
let salt = null;
function cacheSalt() {
  salt ??= JSON.stringify([2, require('typescript/package.json').version, readFileSync(project, 'utf8')]);
  return salt;
}

function transpile(file, text) {
  const { ts, compilerOptions } = typescript();
  const out = ts.transpileModule(text, { compilerOptions, fileName: file, reportDiagnostics: false });
  const map = JSON.parse(out.sourceMapText);
  map.file = file;
  map.sources = [file];
  delete map.sourceRoot;
  const code = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '');
  return `${code}\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TS_FILE.test(url)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const text = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(cacheSalt()).update('\0').update(file).update('\0').update(text).digest('hex');
  const cached = join(dir, `${key}.js`);
  let source;
  try {
    source = readFileSync(cached, 'utf8');
  } catch {
    source = transpile(file, text);
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      writeFileSync(tmp, source);
      renameSync(tmp, cached); // atomic: parallel test processes never read half a file
    } catch {
      // a cache that cannot be written only costs time
    }
  }
  return { format: 'module', source, shortCircuit: true };
}

