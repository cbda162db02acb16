// The TypeScript loader of the test suite: transpiles each .ts module (TypeScript's transpileModule,
// type-only, as ts-node's transpile-only mode did) and keeps the result on disk under
// node_modules/.cache, keyed by the file's path and text and the compiler options: a module is
// transpiled once until it changes, not again in each of ~100 test processes (a test that starts a
// gateway imports ~200 modules of src/: ~3 s of CPU per file with ts-node). .taprc loads it with
// node-arg and sets TAP_TYPE_STRIP_ONLY=1, tap's switch that keeps ts-node out of test processes
// (on Node < 22 tap would otherwise run every import of every file through ts-node's hooks too).
// Also usable alone: node --import ./test/helpers/ts-cache.mjs test/x.test.ts
import { register } from 'node:module';

register('./ts-cache-hooks.mjs', import.meta.url);
