// Loaded first in every node process of a test run without coverage (test/run.mjs puts it in
// NODE_OPTIONS then): it keeps tap's @tapjs/processinfo out of the test processes and of every node
// process they start. tap loads processinfo into each test file (--import) and, through NODE_OPTIONS,
// into each child (every gateway and CLI a test starts): a module hook that copies every loaded
// module to the main thread, a require hook, a JSON file per process. It is what coverage and
// `tap --changed` read; with coverage off nothing reads it, and it cost ~0.1 s of CPU per test
// file and ~0.4 s per child that loads the gateway (measured with and without, same minutes).
// Processinfo's own switch is its singleton: when one exists it registers nothing. Its module hook
// is registered by its import script; that registration is skipped here. If a tap update renames
// either, this does nothing and the run only costs what it did before.
import module from 'node:module';

if (process.env.GATEHOUSE_TEST_NO_PROCESSINFO === '1' && process.env.TAP_CHILD_ID !== undefined) {
  const singleton = Symbol.for('@tapjs/processinfo.ProcessInfoNodeData');
  globalThis[singleton] ??= { files: [], sources: Object.create(null) };
  const register = module.register;
  module.register = function registerUnlessProcessinfo(specifier, ...rest) {
    if (/[\\/]@tapjs[\\/]processinfo[\\/]/.test(String(specifier))) return;
    return register.call(this, specifier, ...rest);
  };
}
