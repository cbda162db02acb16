// The one union of inter-process messages (src/process/messages.ts): ours are recognised by kind,
// anything else on the IPC channel is not, and the primary relays only worker-to-workers kinds.
import t from 'tap';
import { isMessage, isProcessMessage, RELAYED, type ProcessMessage } from '../../src/process/messages.js';

const ours: ProcessMessage[] = [
  { gatehouse: 'revoked', event: { sessionId: 's1' } },
  { gatehouse: 'login', topic: 'state', data: { op: 'take', key: 'k' } },
  { gatehouse: 'identity', sessionId: 's1', state: { version: 2 } },
  { gatehouse: 'metrics-collect', id: 1 },
  { gatehouse: 'metrics-request', id: 2 },
  { gatehouse: 'metrics-json', id: 2, json: [] },
  { gatehouse: 'metrics-result', id: 1, text: null },
];

t.test('every kind is ours, and only its own kind matches', async (t) => {
  for (const m of ours) {
    t.ok(isProcessMessage(m), m.gatehouse);
    t.ok(isMessage(m, m.gatehouse), `${m.gatehouse} is a ${m.gatehouse}`);
    t.notOk(isMessage(m, ...(['revoked', 'login', 'metrics-collect'] as const).filter((k) => k !== m.gatehouse)), `${m.gatehouse} is no other kind`);
  }
});

t.test('other modules’ messages are not ours', async (t) => {
  for (const m of [null, 'revoked', 42, {}, { gatehouse: 'other' }, { gatehouse: 1 }, { cmd: 'NODE_CLUSTER' }]) t.notOk(isProcessMessage(m), JSON.stringify(m));
});

t.test('the primary relays revocations, sign-in state and identity changes, nothing else', async (t) => {
  t.same([...RELAYED].sort(), ['identity', 'login', 'revoked']);
});
