// Shared fixtures for the config tests: a minimal valid gateway.yaml and helpers that load a
// t.testdir() tree and return the problems as formatted `file:line:col message` lines.
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError, formatProblem, type GatewayConfig } from '../../src/config/types.js';

/** A valid gateway.yaml (9 lines); tests append or replace lines. */
export const GATEWAY = `listen: 127.0.0.1:8080
admin:
  listen: 127.0.0.1:9901
session:
  cookie: gh
  keys: ./keys.json
store:
  sqlite: ./data/gh.db
apps: ./apps
`;

/** A valid app file (8 lines). */
export const APP = (name = 'wiki', host = `${name}.corp.example`) => `name: ${name}
hosts: [${host}]
upstream: http://127.0.0.1:3000
policies:
  - name: open
    action: bypass
    include:
      - everyone: true
`;

export type Tree = { [name: string]: string | Tree };

/** gateway.yaml + apps/ in a fresh test directory; returns the gateway.yaml path. */
export function setup(t: Test, apps: Tree = {}, gateway = GATEWAY, extra: Tree = {}): string {
  const dir = t.testdir({ 'gateway.yaml': gateway, apps, ...extra });
  return `${dir}/gateway.yaml`;
}

/** The formatted problems of loading `file` ([] when it loads). */
export async function problems(file: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadConfig(file, env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
}

/** Loads and returns the config; fails the test with the problems when it does not load. */
export async function load(t: Test, file: string, env: NodeJS.ProcessEnv = {}): Promise<GatewayConfig> {
  try {
    return await loadConfig(file, env);
  } catch (err) {
    t.fail(err instanceof ConfigError ? err.message : String(err));
    throw err;
  }
}

/** A self-signed-looking PEM (contents are not parsed by the loader, only recognised as PEM). */
export const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
