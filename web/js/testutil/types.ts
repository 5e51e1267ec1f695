// Compiled by `npm run check` (tsc), never run: the documented uses of
// wsgate.js against its hand-written wsgate.d.ts.
import { connect, Client, Subscription, WsgateError, type Message, type Position, type StateEvent } from 'wsgate';

export async function uses(): Promise<void> {
  const c: Client = await connect(['https://eu.example.com'], {
    probes: 3,
    reprobeInterval: -1,
    storage: null,
    onState: (e: StateEvent) => console.log(e.state, e.url, e.node, e.region, e.code, e.delay),
  });
  const off: () => void = c.on('state', (e) => void e.attempt);
  off();
  const result = await c.call<{ points: number[] }>('market.history', { symbol: 'ACME' }, { timeout: 5000 });
  result.points.length;
  const sub: Subscription = await c.subscribe('ticks', (m: Message) => {
    if (m.kind === 'gap') console.log(m.last?.seq);
  }, { since: { seq: 4, epoch: 'e' }, signal: AbortSignal.timeout(1000) });
  const pos: Position = sub.position;
  const p: Position = await c.publish('chat', { text: 'hi' });
  await sub.unsubscribe();
  try {
    await c.call('x');
  } catch (e) {
    if (e instanceof WsgateError) console.log(e.code, pos.seq, p.epoch);
  }
  await c.close();
}
