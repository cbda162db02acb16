// `gatehouse start`: the command that needs the gateway itself.
import { resolve } from 'node:path';
import { loadConfig } from './config/load.js';
import { ConfigError, type GatewayConfig } from './config/types.js';
import { Gateway } from './gateway.js';
import { createLogger, defaultLogFormat } from './log.js';
import { startExampleUpstream } from './example-upstream.js';
import { loadOrCreateKeySet } from './auth/keys.js';
import { installLogin } from './login/install.js';
import { installAdminApi } from './admin/install.js';
import { installConsole } from './console/install.js';
import { installScim } from './identity/scim/install.js';
import { installSsf } from './identity/ssf/install.js';
import { followUsersFiles } from './identity/users-file.js';
import { RemoteJwks } from './auth/remote-jwks.js';
import { installDevices } from './devices/install.js';
import cluster from 'node:cluster';
import { bridgeIdentities, bridgeRevocations, superviseWorkers, workerId } from './process/cluster.js';
import { bridgeMetrics } from './process/cluster-metrics.js';
import { HeapGovernor, operatorHeapFlags } from './process/heap.js';
import { parseCommandArgs } from './cli-args.js';
import { ensureAdminTokenFile } from './admin/token-file.js';
import { banner } from './banner.js';


/** The demo upstream listens where the config's apps send their requests (127.0.0.1:8081 in the example). */
function exampleUpstreamPort(config: GatewayConfig): number {
  const local = config.apps.find((a) => a.upstream?.hostname === '127.0.0.1' && a.upstream.protocol === 'http:')?.upstream;
  return local ? Number(local.port || 80) : 8081;
}

function refuse(err: ConfigError): number {
  console.error(err.message);
  console.error(`gatehouse: refusing to start: ${err.problems.length} config problem${err.problems.length === 1 ? '' : 's'}.`);
  return 1;
}

/** The demo's local user (config/users.yaml), shown in the banner of `npm start`. */
const DEMO_USER = { email: 'demo@example.com', password: 'gatehouse-demo' };

export async function start(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, 'example-upstream': { type: 'boolean' } });
  const file = resolve(String(values.config ?? 'gateway.yaml'));
  // Validate before anything starts (and before forking) so a bad config fails once, loudly.
  let config: GatewayConfig;
  try {
    config = await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return refuse(err);
  }
  const pretty = (config.logFormat ?? defaultLogFormat()) === 'pretty';
  const logger = createLogger(undefined, pretty ? 'pretty' : 'json');
  const demo = values['example-upstream'] === true;
  const facts = { config, adminUrl: null as string | null, newToken: null as string | null, demoUser: demo ? DEMO_USER : null, workers: config.workers };
  if (cluster.isPrimary) {
    // Created once, here: workers starting together must not each write their own.
    if (config.workers > 1) await loadOrCreateKeySet(config.session.keysFile);
    if (config.admin.tokensFile) facts.newToken = await ensureAdminTokenFile(config.admin.tokensFile);
    // The token itself goes to a person's terminal only, never into a log that may be shipped.
    if (facts.newToken && !pretty) logger.info({ file: config.admin.tokensFile }, 'generated an admin token (mode 0600): read it from that file');
    if (config.workers > 1) {
      const upstream = demo ? await startExampleUpstream(exampleUpstreamPort(config)) : null;
      if (pretty) process.stdout.write(banner({ ...facts, dataPort: config.listen.port, adminUrl: `http://${config.admin.listen.host}:${config.admin.listen.port}` }));
      const code = await superviseWorkers(config.workers, logger);
      upstream?.close();
      return code;
    }
  }
  const upstream = demo && cluster.isPrimary ? await startExampleUpstream(exampleUpstreamPort(config)) : null;
  let gateway: Gateway;
  try {
    gateway = await Gateway.start({
      configFile: file,
      logger,
      admin: workerId() === 1,
      extend: async (g) => {
        bridgeRevocations(g.services.revocations);
        bridgeIdentities(g.services.identities);
        bridgeMetrics(g.services.metrics, workerId() === 1);
        followUsersFiles((await installLogin(g)).registry, g.identityChanges, g.logger);
        const devices = await installDevices(g);
        installAdminApi(g);
        installConsole(g);
        await installScim(g);
        await installSsf(g, (issuer, url) => new RemoteJwks(issuer, url, { cooldownMs: 30_000 }), devices);
      },
    });
  } catch (err) {
    upstream?.close();
    if (err instanceof ConfigError) return refuse(err);
    console.error(`gatehouse: cannot start: ${(err as Error).message}`);
    return 1;
  }
  if (pretty && cluster.isPrimary) {
    process.stdout.write(banner({ ...facts, config: gateway.configs.current, dataPort: Number(new URL(gateway.dataUrl).port), adminUrl: gateway.adminUrl }));
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
