/**
 * Property test over random operation sequences (admit from RPC and gossip, nonce transactions, reap +
 * full or partial commit, failed rounds, re-injection, invalidation, time passing). After every step:
 * capacity is never exceeded, no committed transaction is pending, the pool's pending set is exactly the
 * admitted-and-not-yet-left set, and every transaction that left has a final status. At the end, after
 * the TTL passes, every admission has ended in exactly one final status.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { txHash } from '../../../src/codec/hashing.ts';
import type { TxEnvelope } from '../../../src/types.ts';
import { classifyNonceTx, makePool, nonceTx, rollup } from './helpers.ts';

type Op =
  | { k: 'add'; lane: number; id: number; size: number; rpc: boolean }
  | { k: 'nonce'; sender: number; nonce: number; variant: number }
  | { k: 'commit'; maxTxs: number; keep: number; foreign: number; foreignNonce: number }
  | { k: 'fail'; maxTxs: number }
  | { k: 'time'; ms: number }
  | { k: 'invalidate'; index: number }
  | { k: 'reinject'; ids: number[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    k: fc.constant('add' as const),
    lane: fc.integer({ min: 1, max: 4 }),
    id: fc.integer({ min: 0, max: 40 }),
    size: fc.integer({ min: 1, max: 300 }),
    rpc: fc.boolean(),
  }),
  fc.record({
    k: fc.constant('nonce' as const),
    sender: fc.integer({ min: 0, max: 2 }),
    nonce: fc.integer({ min: 0, max: 6 }),
    variant: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({
    k: fc.constant('commit' as const),
    maxTxs: fc.integer({ min: 0, max: 8 }),
    keep: fc.integer({ min: 0, max: 8 }),
    foreign: fc.integer({ min: -1, max: 40 }),
    foreignNonce: fc.integer({ min: -1, max: 8 }),
  }),
  fc.record({ k: fc.constant('fail' as const), maxTxs: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ k: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 700 }) }),
  fc.record({ k: fc.constant('invalidate' as const), index: fc.nat({ max: 20 }) }),
  fc.record({
    k: fc.constant('reinject' as const),
    ids: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 4 }),
  }),
);

const LIMITS = { maxTotalTxs: 12, maxTotalBytes: 2000, ttlMs: 2000, heldTtlMs: 800, maxNonceGap: 2 };
const LANES = [
  rollup(1, { maxPendingTxs: 6, maxPendingBytes: 1000, maxTxBytes: 250 }),
  rollup(2, { maxPendingTxs: 6, maxPendingBytes: 1200, weight: 2 }),
  rollup(3, { kind: 'transfer', maxPendingTxs: 6, maxPendingBytes: 1000 }),
];

function opaqueTx(lane: number, id: number, size: number): TxEnvelope {
  const payload = new Uint8Array(size);
  payload[0] = id;
  if (size > 1) payload[size - 1] = 0x80;
  return { namespace: lane, payload };
}

/** Final outcomes seen over all runs: the test asserts each kind was exercised. */
const outcomes = new Map<string, number>();

const key = (t: TxEnvelope) => Buffer.from(txHash(t)).toString('hex');

function run(ops: Op[]): void {
  const { pool, clock } = makePool({
    rollups: LANES,
    classify: classifyNonceTx,
    limits: { ...LIMITS, statusRetentionMs: 1e12, maxStatusEntries: 1e6 },
  });
  const known = new Map<string, TxEnvelope>();
  const open = new Set<string>(); // admitted, not yet seen leaving
  const committed = new Set<string>();
  let admissions = 0;
  let endings = 0;

  const add = (t: TxEnvelope, source: 'rpc' | 'gossip' | 'reinject') => {
    const r = source === 'reinject' ? pool.reinject([t])[0]! : pool.add(t, source);
    if (r.ok) {
      const k = key(t);
      expect(open.has(k)).toBe(false);
      known.set(k, t);
      open.add(k);
      admissions++;
    }
    return r;
  };

  const check = () => {
    const s = pool.stats();
    expect(s.txs).toBeLessThanOrEqual(LIMITS.maxTotalTxs);
    expect(s.bytes).toBeLessThanOrEqual(LIMITS.maxTotalBytes);
    s.lanes.forEach((l, i) => {
      expect(l.txs).toBeLessThanOrEqual(LANES[i]!.maxPendingTxs);
      expect(l.bytes).toBeLessThanOrEqual(LANES[i]!.maxPendingBytes);
    });
    expect(s.lanes.reduce((a, l) => a + l.txs, 0)).toBe(s.txs);
    const pending = pool.pendingHashes().map((h) => Buffer.from(h).toString('hex'));
    expect(pending.length).toBe(s.txs);
    for (const k of pending) {
      expect(open.has(k)).toBe(true); // nothing pending that was not admitted
      expect(committed.has(k)).toBe(false); // never both committed and pending
    }
    const pendingSet = new Set(pending);
    for (const k of [...open]) {
      const st = pool.status(txHash(known.get(k)!));
      if (pendingSet.has(k)) {
        expect(st.status).toBe('pending');
        continue;
      }
      // It left: exactly one final status.
      expect(['committed', 'dropped']).toContain(st.status);
      const label = st.status === 'dropped' ? st.reason : st.status;
      outcomes.set(label, (outcomes.get(label) ?? 0) + 1);
      open.delete(k);
      endings++;
    }
    for (const k of committed) expect(pool.status(txHash(known.get(k)!)).status).toBe('committed');
  };

  let height = 1;
  for (const op of ops) {
    switch (op.k) {
      case 'add':
        add(opaqueTx(op.lane, op.id, op.size), op.rpc ? 'rpc' : 'gossip');
        break;
      case 'nonce':
        add(nonceTx(3, `s${op.sender}`, op.nonce, String(op.variant)), 'rpc');
        break;
      case 'commit': {
        const block = pool.reap({ maxBytes: 1500, maxTxs: op.maxTxs });
        expect(block.length).toBeLessThanOrEqual(op.maxTxs);
        const chosen = block.slice(0, op.keep);
        if (op.foreign >= 0) {
          const f = opaqueTx(1, op.foreign, 7);
          known.set(key(f), f);
          chosen.push(f);
        }
        if (op.foreignNonce >= 0) {
          // Another proposer's transaction for a sender we may hold: same nonce, different bytes.
          const f = nonceTx(3, `s${op.foreignNonce % 3}`, op.foreignNonce % 4, 'foreign');
          known.set(key(f), f);
          chosen.push(f);
        }
        pool.update(height++, chosen);
        for (const t of chosen) committed.add(key(t));
        break;
      }
      case 'fail':
        pool.reap({ maxBytes: 1500, maxTxs: op.maxTxs });
        pool.update(height++, []);
        break;
      case 'time':
        clock.advance(op.ms);
        pool.prune();
        break;
      case 'invalidate': {
        const pending = pool.pendingHashes();
        const h = pending[op.index % Math.max(1, pending.length)];
        if (h) expect(pool.invalidate(h, 'test')).toBe(true);
        break;
      }
      case 'reinject':
        for (const id of op.ids) {
          add(opaqueTx(2, id, 50), 'reinject');
          check();
        }
        break;
    }
    check();
  }
  clock.advance(LIMITS.ttlMs);
  pool.prune();
  check();
  expect(pool.stats().txs).toBe(0);
  expect(open.size).toBe(0);
  expect(endings).toBe(admissions);
}

describe('mempool properties', () => {
  it('random operation sequences keep every invariant', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => run(ops)),
      // A fixed seed: the coverage check below must not depend on the draw (a random seed left
      // "replaced" unexercised once in CI); ORDO_PROPERTY_SEED explores other sequences.
      { numRuns: 300, seed: Number(process.env.ORDO_PROPERTY_SEED ?? 20261206) },
    );
    for (const o of ['committed', 'expired', 'evicted', 'invalid', 'replaced']) {
      expect(outcomes.get(o) ?? 0, `outcome ${o} exercised`).toBeGreaterThan(0);
    }
  });

  it('sanity: the model sees admissions', () => {
    run([
      { k: 'add', lane: 1, id: 1, size: 10, rpc: true },
      { k: 'nonce', sender: 0, nonce: 0, variant: 0 },
      { k: 'commit', maxTxs: 8, keep: 1, foreign: 3, foreignNonce: 0 },
    ]);
  });
});
