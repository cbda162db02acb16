// The admin API's reads of the SQLite store, in a worker thread (read-thread.ts) with its own
// read-only connection to the same file. better-sqlite3 is synchronous: on the main thread a heavy
// read — and decoding its rows — would stall every proxied request for as long as it runs (issue
// #17 finding 9: 7 s for one unpaged list of 120,000 sessions). Pages bound each read; the worker
// keeps even a bounded one off the data plane's event loop. Writes (revocations) stay on the
// store's own connection: they must be durable before the admin API answers.
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { StoreQueryError } from '../cursor.js';
import type { StoreReader } from '../types.js';
import type { ActionQuery } from '../action-types.js';

type ReaderMethod = Exclude<keyof StoreReader, 'identities' | 'actions'>;

export type ReadCall =
  | { id: number; method: ReaderMethod; args: unknown[] }
  | { id: number; method: 'sessionHistory'; args: [string] }
  | { id: number; method: 'listActions'; args: [ActionQuery] };

export type ReadReply = { id: number; result: unknown } | { id: number; error: { name: string; message: string; param?: string } };

/**
 * The thread's module: read-thread.js beside this file once built. Run from source (the tests'
 * TypeScript loader), it is the built twin under dist/ when there is one, as for every process the
 * tests spawn (booting the loader in each thread costs seconds), else the .ts through the loader.
 */
function threadModule(): { url: URL; execArgv?: string[] } {
  if (!import.meta.url.endsWith('.ts')) return { url: new URL('./read-thread.js', import.meta.url) };
  const built = new URL('../../../dist/store/sqlite/read-thread.js', import.meta.url);
  if (existsSync(built)) return { url: built, execArgv: [] };
  return { url: new URL('./read-thread.ts', import.meta.url) };
}

export class SqliteReadWorker implements StoreReader {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private next = 1;
  private closed = false;
  readonly identities: StoreReader['identities'] = { sessionHistory: (id) => this.call('sessionHistory', [id]) as never };
  readonly actions: StoreReader['actions'] = { list: (q) => this.call('listActions', [q]) as never };

  /**
   * The thread starts with the first read, not here: a thread is a V8 isolate of its own (~7 MiB of
   * resident memory, measured), and most gateways serve requests for hours between two admin reads.
   */
  constructor(readonly file: string) {}

  /** The thread, started on first use and again after it died (every pending read then failed). */
  private thread(): Worker {
    if (this.worker) return this.worker;
    const thread = threadModule();
    const worker = new Worker(thread.url, { workerData: { file: this.file }, ...(thread.execArgv ? { execArgv: thread.execArgv } : {}) });
    worker.unref();
    worker.on('message', (reply: ReadReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(errorOf(reply.error));
      else p.resolve(reply.result);
    });
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the admin read worker stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private call(method: ReadCall['method'], args: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the admin read worker is closed'));
    const id = this.next++;
    const worker = this.thread();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Only while a read is pending does the thread keep the process alive.
      worker.ref();
      worker.postMessage({ id, method, args });
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    });
  }

  getSession: StoreReader['getSession'] = (...a) => this.call('getSession', a) as never;
  listSessions: StoreReader['listSessions'] = (...a) => this.call('listSessions', a) as never;
  countSessions: StoreReader['countSessions'] = (...a) => this.call('countSessions', a) as never;
  sessionActivity: StoreReader['sessionActivity'] = (...a) => this.call('sessionActivity', a) as never;
  appSessions: StoreReader['appSessions'] = (...a) => this.call('appSessions', a) as never;
  listUsers: StoreReader['listUsers'] = (...a) => this.call('listUsers', a) as never;
  userSummary: StoreReader['userSummary'] = (...a) => this.call('userSummary', a) as never;
  userSessions: StoreReader['userSessions'] = (...a) => this.call('userSessions', a) as never;
  identityHistory: StoreReader['identityHistory'] = (...a) => this.call('identityHistory', a) as never;
  listDecisions: StoreReader['listDecisions'] = (...a) => this.call('listDecisions', a) as never;
  appIdentities: StoreReader['appIdentities'] = (...a) => this.call('appIdentities', a) as never;

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new Error('the admin read worker is closed'));
    this.pending.clear();
    await worker?.terminate();
  }
}

/** A bad cursor stays a StoreQueryError (a 400 naming the parameter); anything else is a store failure. */
function errorOf(e: { name: string; message: string; param?: string }): Error {
  if (e.name === 'StoreQueryError' && e.param) return new StoreQueryError(e.param, e.message);
  return new Error(e.message);
}
