/**
 * A received transaction batch is admitted in slices (ADR 0309): a timer armed before a long batch
 * arrives fires before its admission ends, batches are still admitted whole, in arrival order, and
 * the verdicts are the ones an unsliced admission gives. `admit` busy-waits a few ms per transaction
 * so a batch is known to outlast a slice; nothing here asserts a duration.
 */
import { describe, expect, it } from 'vitest';
import { encodeTxBatch } from '../../../src/codec/codec.ts';
import { txHash } from '../../../src/codec/hashing.ts';
import type { GossipHandler, Network, Verdict } from '../../../src/p2p/network.ts';
import { MAX_QUEUED_ADMISSIONS, TxGossip } from '../../../src/p2p/tx-gossip.ts';
import type { AdmitResult, TxEnvelope } from '../../../src/types.ts';

const TX_MS = 2;
const tx = (i: number): TxEnvelope => {
  const payload = new Uint8Array(40);
  new DataView(payload.buffer).setUint32(0, i);
  return { namespace: 1, payload };
};
const idOf = (t: TxEnvelope): number => new DataView(t.payload.buffer, t.payload.byteOffset).getUint32(0);

/** A network stub that keeps the `txs` handler so a test can deliver batches to it. */
function receiver() {
  let handler: GossipHandler | undefined;
  const net = {
    peerId: 'me',
    subscribe: (_t: string, h: GossipHandler) => {
      handler = h;
    },
    publish: async () => {},
  } as unknown as Network;
  const deliver = (txs: TxEnvelope[], from = 'peer') =>
    handler!({ topic: 'txs', from, data: encodeTxBatch(txs) });
  return { net, deliver };
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the main thread is taken, as by signature recovery
  }
}

/** `admit`: busy for TX_MS, then the verdict `judge` gives; records the order it saw. */
function admitter(judge: (id: number) => boolean | AdmitResult = () => true, ms = TX_MS) {
  const seen: number[] = [];
  const admit = (t: TxEnvelope): boolean | AdmitResult => {
    busy(ms);
    seen.push(idOf(t));
    return judge(idOf(t));
  };
  return { admit, seen };
}

const batch = (from: number, n: number): TxEnvelope[] => Array.from({ length: n }, (_, i) => tx(from + i));

describe('TxGossip admits a received batch in slices', () => {
  it('a timer armed before a long batch fires before its admission ends', async () => {
    const { net, deliver } = receiver();
    const { admit, seen } = admitter();
    new TxGossip({ network: net, admit, admitSliceMs: 5 });
    let atTimer: number | undefined;
    const t = setTimeout(() => {
      atTimer = seen.length;
    }, 0);
    const verdict = await deliver(batch(0, 40));
    clearTimeout(t);
    expect(verdict).toBe('accept');
    expect(seen).toHaveLength(40);
    expect(atTimer).toBeDefined();
    expect(atTimer!).toBeLessThan(40);
  });

  it('without slices (admitSliceMs 0) the batch is admitted at once, as before', () => {
    const { net, deliver } = receiver();
    const { admit, seen } = admitter();
    new TxGossip({ network: net, admit, admitSliceMs: 0 });
    const verdict = deliver(batch(0, 10));
    expect(verdict).toBe('accept'); // synchronous, not a promise
    expect(seen).toHaveLength(10);
  });

  it('a batch that fits in one slice is answered synchronously', () => {
    const { net, deliver } = receiver();
    new TxGossip({ network: net, admit: () => true, admitSliceMs: 60_000 });
    expect(deliver(batch(0, 100))).toBe('accept');
  });

  it('batches are admitted whole and in arrival order while slicing', async () => {
    const { net, deliver } = receiver();
    const { admit, seen } = admitter();
    new TxGossip({ network: net, admit, admitSliceMs: 3 });
    const a = deliver(batch(0, 20));
    const b = deliver(batch(100, 20));
    const c = deliver(batch(200, 5));
    await Promise.all([a, b, c]);
    expect(seen).toEqual([...batch(0, 20), ...batch(100, 20), ...batch(200, 5)].map(idOf));
  });

  it('verdicts match an unsliced admission (new, nothing new, invalid)', async () => {
    const judge = (id: number): boolean | AdmitResult =>
      id === 13
        ? { ok: false, code: 'INVALID_TX', message: 'bad', retryable: false }
        : !(id >= 100 && id < 200);
    const run = async (slice: number) => {
      const { net, deliver } = receiver();
      const { admit, seen } = admitter(judge, 1);
      new TxGossip({ network: net, admit, admitSliceMs: slice });
      const verdicts = await Promise.all([
        deliver(batch(0, 10)),
        deliver(batch(100, 12)),
        deliver(batch(5, 12)), // holds id 13
      ]);
      return { verdicts, seen };
    };
    const sliced = await run(2);
    const whole = await run(0);
    expect(sliced).toEqual(whole);
    expect(whole.verdicts).toEqual(['accept', 'ignore', 'reject']);
  });

  it('at most MAX_QUEUED_ADMISSIONS batches wait; one more is ignored, not queued', async () => {
    const { net, deliver } = receiver();
    const { admit, seen } = admitter(() => true, 1);
    new TxGossip({ network: net, admit, admitSliceMs: 0.5 });
    const waiting: (Verdict | Promise<Verdict>)[] = [];
    // The first batch outlasts its slice and queues; MAX - 1 more queue behind it.
    for (let i = 0; i < MAX_QUEUED_ADMISSIONS; i++) waiting.push(deliver(batch(2 * i, 2)));
    expect(deliver(batch(100_000, 2))).toBe('ignore');
    expect(await Promise.all(waiting)).toEqual(waiting.map(() => 'accept'));
    expect(seen).toHaveLength(2 * MAX_QUEUED_ADMISSIONS);
  });

  it('queuedTxs finds received transactions whose admission has not reached them yet (ADR 0346)', async () => {
    const { net, deliver } = receiver();
    const { admit, seen } = admitter();
    const g = new TxGossip({ network: net, admit, admitSliceMs: 5 });
    expect(g.queuedTxs([txHash(tx(0))])).toEqual([]);
    const first = deliver(batch(0, 40));
    const second = deliver(batch(100, 10));
    // The first batch outlasted its first slice: its tail and the whole second batch are still queued.
    const admitted = seen.length;
    expect(admitted).toBeLessThan(40);
    const want = [tx(39), tx(105), tx(999)].map(txHash);
    expect(
      g
        .queuedTxs(want)
        .map(idOf)
        .sort((a, b) => a - b),
    ).toEqual([39, 105]);
    expect(g.queuedTxs([txHash(tx(0))])).toEqual([]); // admitted already: the pool has it
    await Promise.all([first, second]);
    expect(g.queuedTxs(want)).toEqual([]);
  });
});
