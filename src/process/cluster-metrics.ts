// /metrics under `workers: N`: worker 1 serves the admin listener, but each worker counts its own
// requests. On a scrape, worker 1 asks the primary, the primary asks every worker for its metrics
// (prom-client's JSON form), aggregates them (counters and histograms sum, gauges as each one says:
// see metrics.ts) and hands the text back. A worker that does not answer within a second is left
// out rather than stalling the scrape; if the primary does not answer, worker 1 serves its own.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from '../metrics.js';
import { isMessage, type MessageOf, type MetricsJson, type ProcessMessage } from './messages.js';

const WORKER_ANSWER_MS = 1000;
const PRIMARY_ANSWER_MS = 3000;

/** The metrics round's messages (process/messages.ts has who sends which). */
type MetricsMessage = MessageOf<'metrics-collect' | 'metrics-request' | 'metrics-json' | 'metrics-result'>;

const isMetricsMessage = (m: unknown): m is MetricsMessage => isMessage(m, 'metrics-collect', 'metrics-request', 'metrics-json', 'metrics-result');

interface Round {
  waiting: Set<Worker>;
  got: MetricsJson[];
  done: () => void;
}

const rounds = new Map<number, Round>();
let nextRound = 0;

/**
 * In the primary: handles a metrics message from worker `from`; false when `m` is not one (the
 * caller relays it as usual).
 */
export function handleMetricsMessage(from: Worker, m: ProcessMessage, workers: () => Worker[]): boolean {
  if (!isMetricsMessage(m)) return false;
  if (m.gatehouse === 'metrics-collect') collect(from, m.id, workers());
  else if (m.gatehouse === 'metrics-json') {
    const round = rounds.get(m.id);
    if (round?.waiting.delete(from)) {
      round.got.push(m.json);
      if (round.waiting.size === 0) round.done();
    }
  }
  return true;
}

function collect(requester: Worker, requestId: number, workers: Worker[]): void {
  const id = ++nextRound;
  const live = workers.filter((w) => w.isConnected());
  const round: Round = { waiting: new Set(live), got: [], done: () => undefined };
  const timer = setTimeout(() => round.done(), WORKER_ANSWER_MS);
  round.done = () => {
    clearTimeout(timer);
    rounds.delete(id);
    const answer = (text: string | null) => {
      if (requester.isConnected()) requester.send({ gatehouse: 'metrics-result', id: requestId, text } satisfies MetricsMessage);
    };
    if (round.got.length === 0) return answer(null);
    AggregatorRegistry.aggregate(round.got)
      .metrics()
      .then(answer, () => answer(null));
  };
  rounds.set(id, round);
  for (const w of live) w.send({ gatehouse: 'metrics-request', id } satisfies MetricsMessage);
  if (live.length === 0) round.done();
}

/** In a worker: answers the primary's metrics requests; worker 1's /metrics then asks for all of them. */
export function bridgeMetrics(metrics: Metrics, servesAdmin: boolean): void {
  if (!cluster.isWorker || !process.send) return;
  const pending = new Map<number, (text: string | null) => void>();
  let nextId = 0;
  process.on('message', (m: unknown) => {
    if (!isMetricsMessage(m)) return;
    if (m.gatehouse === 'metrics-request') {
      void metrics.registry.getMetricsAsJSON().then((json) => process.send?.({ gatehouse: 'metrics-json', id: m.id, json } satisfies MetricsMessage));
    } else if (m.gatehouse === 'metrics-result') {
      pending.get(m.id)?.(m.text);
    }
  });
  if (!servesAdmin) return;
  metrics.collectCluster = () =>
    new Promise((resolve) => {
      const id = ++nextId;
      const timer = setTimeout(() => finish(null), PRIMARY_ANSWER_MS);
      const finish = (text: string | null) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(text);
      };
      pending.set(id, finish);
      process.send?.({ gatehouse: 'metrics-collect', id } satisfies MetricsMessage);
    });
}
