// `gatehouse start|check|keys|users hash-password`: the commands that need the gateway itself.
import { resolve } from 'node:path';
import { loadConfig } from './config/load.js';
import { ConfigError } from './config/types.js';
import { Gateway } from './gateway.js';
import { createLogger } from './log.js';
import { startExampleUpstream } from './example-upstream.js';
import { generateKeyFile, isSigningAlg, loadOrCreateKeySet, readKeyFile, SIGNING_ALGORITHMS } from './auth/keys.js';
import { hashSecret } from './auth/password.js';
import { parseDuration } from './config/duration.js';
import { installLogin } from './login/install.js';
import { installAdminApi } from './admin/install.js';
import { installScim } from './identity/scim/install.js';
import cluster from 'node:cluster';
import { bridgeRevocations, superviseWorkers, workerId } from './process/cluster.js';
import { bridgeMetrics } from './process/cluster-metrics.js';
import { HeapGovernor, operatorHeapFlags } from './process/heap.js';
import { parseCommandArgs, UsageError } from './cli-args.js';


export async function check(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' } });
  const file = resolve(String(values.config ?? 'gateway.yaml'));
  try {
    const config = await loadConfig(file);
    console.log(`${file}: ok (${config.apps.length} apps, hash ${config.hash})`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      console.error(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} found.`);
      return 1;
    }
    throw err;
  }
}

export async function start(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, 'example-upstream': { type: 'boolean' } });
  const file = resolve(String(values.config ?? 'gateway.yaml'));
  const logger = createLogger();
  if (cluster.isPrimary) {
    // Validate before forking so a bad config fails once, loudly, with every problem.
    let workers: number;
    try {
      const config = await loadConfig(file);
      workers = config.workers;
      // Create the signing keys once, here: workers starting together must not each write their own.
      if (workers > 1) await loadOrCreateKeySet(config.session.keysFile);
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(err.message);
        console.error(`gatehouse: refusing to start: ${err.problems.length} config problem${err.problems.length === 1 ? '' : 's'}.`);
        return 1;
      }
      throw err;
    }
    if (workers > 1) {
      const upstream = values['example-upstream'] ? await startExampleUpstream() : null;
      const code = await superviseWorkers(workers, logger);
      upstream?.close();
      return code;
    }
  }
  const upstream = values['example-upstream'] && cluster.isPrimary ? await startExampleUpstream() : null;
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({
      configFile: file,
      logger,
      admin: workerId() === 1,
      extend: async (g) => {
        bridgeRevocations(g.services.revocations);
        bridgeMetrics(g.services.metrics, workerId() === 1);
        await installLogin(g);
        installAdminApi(g);
        await installScim(g);
      },
    });
  } catch (err) {
    upstream?.close();
    if (err instanceof ConfigError) {
      console.error(err.message);
      console.error(`gatehouse: refusing to start: ${err.problems.length} config problem${err.problems.length === 1 ? '' : 's'}.`);
      return 1;
    }
    console.error(`gatehouse: cannot start: ${(err as Error).message}`);
    return 1;
  }
  process.on('SIGHUP', () => void gateway.configs.reload('SIGHUP'));
  // Every serving process (a single one, or each worker): see heap.ts.
  const authenticator = gateway.services.authenticator;
  const heap = operatorHeapFlags() ? null : new HeapGovernor(() => authenticator.cacheStats()).start();
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      heap?.stop();
      void gateway.close().then(done);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  upstream?.close();
  // A worker's IPC channel to the primary would keep it alive after a clean stop.
  if (cluster.isWorker) process.disconnect?.();
  return 0;
}

/** A rotated key signs only after this, so the copied file reaches every instance first. */
const DEFAULT_ACTIVATE_IN = '10m';

export async function keys(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'generate') throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
  const { values } = parseCommandArgs(rest, { out: { type: 'string' }, alg: { type: 'string' }, rotate: { type: 'boolean' }, 'activate-in': { type: 'string' } });
  if (typeof values.out !== 'string') throw new UsageError('--out FILE is required');
  const alg = typeof values.alg === 'string' ? values.alg : 'ES256';
  if (!isSigningAlg(alg)) throw new UsageError(`unsupported --alg ${alg} (use one of ${SIGNING_ALGORITHMS.join(', ')})`);
  let delayMs: number;
  try {
    delayMs = parseDuration(typeof values['activate-in'] === 'string' ? values['activate-in'] : DEFAULT_ACTIVATE_IN);
  } catch (err) {
    throw new UsageError(`--activate-in: ${(err as Error).message}`);
  }
  const out = resolve(values.out);
  if (values.rotate !== true && (await readKeyFile(out))) {
    // One line that says what to do: rotating keeps every session valid, replacing logs everyone out.
    throw new UsageError(`${values.out} already holds a key set: add a key with --rotate, or give another --out`);
  }
  const activateAt = Date.now() + delayMs;
  await generateKeyFile(out, alg, { append: values.rotate === true, activateAt });
  if (!values.rotate) console.log(`${values.out}: wrote a new key set`);
  else if (delayMs === 0) console.log(`${values.out}: added a new signing key; it signs from now on (older keys still verify)`);
  else console.log(`${values.out}: added a new key; it verifies at once and signs from ${new Date(activateAt).toISOString()} — copy the file to every instance before then`);
  return 0;
}

export async function hashPassword(args: string[]): Promise<number> {
  let secret = args[0];
  if (secret === undefined) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  if (!secret) throw new UsageError('empty password: give it as an argument or on stdin');
  console.log(await hashSecret(secret));
  return 0;
}

