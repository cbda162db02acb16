// `gatehouse check|keys|users hash-password`: the commands that work on files. They load the
// config loader or the key code alone, not the gateway (a third of the CPU of `gatehouse start`'s
// imports), so a usage slip or a key file costs a short process.
import { resolve } from 'node:path';
import { loadConfig } from './config/load.js';
import { ConfigError } from './config/types.js';
import { generateKeyFile, isSigningAlg, readKeyFile, SIGNING_ALGORITHMS } from './auth/keys.js';
import { hashSecret } from './auth/password.js';
import { parseDuration } from './config/duration.js';
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

