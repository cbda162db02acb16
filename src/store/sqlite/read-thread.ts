// The admin read worker's thread (read-worker.ts starts it): its own read-only connection to the
// store's file, answering one read at a time. In WAL mode readers never wait for the writer, and
// whatever a read costs (a big page, its rows' decoding) is spent here, not on the event loop that
// proxies requests.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SqliteReader } from './reader.js';
import type { ReadCall, ReadReply } from './read-worker.js';

const { file } = workerData as { file: string };
const db = new Database(file, { readonly: true, fileMustExist: true });
// A reader waits only while a checkpoint resets the WAL (rare, short); here that blocks nobody else.
db.pragma('busy_timeout = 2000');
const reader = new SqliteReader(db);

async function answer(call: ReadCall): Promise<unknown> {
  if (call.method === 'sessionHistory') return reader.identities.sessionHistory(...call.args);
  if (call.method === 'listActions') return reader.actions.list(...call.args);
  const method = reader[call.method] as (...args: unknown[]) => Promise<unknown>;
  return method.apply(reader, call.args);
}

parentPort?.on('message', (call: ReadCall) => {
  answer(call).then(
    (result) => parentPort?.postMessage({ id: call.id, result } satisfies ReadReply),
    (err: Error & { param?: string }) =>
      parentPort?.postMessage({ id: call.id, error: { name: err.name, message: err.message, ...(err.param ? { param: err.param } : {}) } } satisfies ReadReply),
  );
});
