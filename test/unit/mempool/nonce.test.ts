/** Per-sender nonce handling for executed lanes: gaps held, promotion, bounds, replacement on commit. */
import { describe, expect, it } from 'vitest';
import { txHash } from '../../../src/codec/hashing.ts';
import { classifyNonceTx, makePool, nonceTx, rollup } from './helpers.ts';

function execPool(
  over: { maxNonceGap?: number; heldTtlMs?: number; accountNonce?: (ns: number, s: string) => bigint } = {},
) {
  return makePool({
    rollups: [rollup(1, { kind: 'transfer' }), rollup(2)],
    classify: classifyNonceTx,
    accountNonce: over.accountNonce,
    limits: { maxNonceGap: over.maxNonceGap ?? 3, heldTtlMs: over.heldTtlMs ?? 10_000 },
  });
}

const reapAll = (pool: ReturnType<typeof makePool>['pool']) => pool.reap({ maxBytes: 1e6, maxTxs: 1000 });
const text = (txs: { payload: Uint8Array }[]) => txs.map((t) => new TextDecoder().decode(t.payload));

describe('nonce handling', () => {
  it('holds gapped transactions and releases them in nonce order once the gap fills', () => {
    const { pool } = execPool();
    pool.add(nonceTx(1, 'alice', 2), 'rpc');
    pool.add(nonceTx(1, 'alice', 1), 'rpc');
    expect(reapAll(pool)).toEqual([]);
    expect(pool.status(txHash(nonceTx(1, 'alice', 2)))).toEqual({ status: 'pending' });
    pool.add(nonceTx(1, 'bob', 0), 'rpc');
    pool.add(nonceTx(1, 'alice', 0), 'rpc');
    expect(text(reapAll(pool))).toEqual(['bob:0:', 'alice:0:', 'alice:1:', 'alice:2:']);
  });

  it('starts from the injected account nonce and rejects NONCE_TOO_LOW', () => {
    const { pool } = execPool({ accountNonce: (_ns, s) => (s === 'alice' ? 5n : 0n) });
    expect(pool.add(nonceTx(1, 'alice', 4), 'rpc')).toMatchObject({
      code: 'NONCE_TOO_LOW',
      retryable: false,
    });
    expect(pool.add(nonceTx(1, 'alice', 5), 'rpc').ok).toBe(true);
    expect(text(reapAll(pool))).toEqual(['alice:5:']);
  });

  it('asks accountNonce once per new sender, not per transaction', () => {
    const calls: string[] = [];
    const { pool } = execPool({
      accountNonce: (_ns, s) => {
        calls.push(s);
        return 0n;
      },
    });
    pool.add(nonceTx(1, 'alice', 0), 'rpc');
    pool.add(nonceTx(1, 'alice', 1), 'rpc');
    pool.add(nonceTx(1, 'bob', 9), 'rpc'); // rejected: gap
    expect(calls).toEqual(['alice', 'bob']);
  });

  it('rejects NONCE_GAP_TOO_LARGE beyond maxNonceGap', () => {
    const { pool } = execPool({ maxNonceGap: 3 });
    expect(pool.add(nonceTx(1, 'alice', 3), 'rpc').ok).toBe(true);
    expect(pool.add(nonceTx(1, 'alice', 4), 'rpc')).toMatchObject({
      code: 'NONCE_GAP_TOO_LARGE',
      retryable: true,
    });
  });

  it('same sender and nonce: first seen wins, the later one is refused as DUPLICATE', () => {
    const { pool } = execPool();
    expect(pool.add(nonceTx(1, 'alice', 0, 'a'), 'rpc').ok).toBe(true);
    const r = pool.add(nonceTx(1, 'alice', 0, 'b'), 'rpc');
    expect(r).toMatchObject({ ok: false, code: 'DUPLICATE' });
    expect(r.ok ? '' : r.message).toMatch(/first seen wins/);
  });

  it('INVALID_TX when the executor cannot classify the transaction; opaque lanes are never classified', () => {
    const { pool } = execPool();
    expect(pool.add({ namespace: 1, payload: new TextEncoder().encode('garbage') }, 'rpc')).toMatchObject({
      code: 'INVALID_TX',
      message: 'bad transfer encoding',
    });
    expect(pool.add({ namespace: 2, payload: new TextEncoder().encode('garbage') }, 'rpc').ok).toBe(true);
  });

  it('commit advances the sender; a pending same-nonce rival is dropped: replaced', () => {
    const { pool } = execPool();
    const mine = nonceTx(1, 'alice', 0, 'mine');
    pool.add(mine, 'rpc');
    pool.add(nonceTx(1, 'alice', 1), 'rpc');
    const theirs = nonceTx(1, 'alice', 0, 'theirs');
    pool.update(1, [theirs]);
    expect(pool.status(txHash(mine))).toMatchObject({ status: 'dropped', reason: 'replaced' });
    expect(text(reapAll(pool))).toEqual(['alice:1:']);
    expect(pool.add(nonceTx(1, 'alice', 0, 'late'), 'rpc')).toMatchObject({ code: 'NONCE_TOO_LOW' });
  });

  it('remembers the next nonce of a sender with nothing pending', () => {
    const { pool } = execPool();
    const t0 = nonceTx(1, 'carol', 0);
    pool.add(t0, 'rpc');
    pool.update(1, reapAll(pool));
    expect(pool.add(nonceTx(1, 'carol', 0, 'again'), 'rpc')).toMatchObject({ code: 'NONCE_TOO_LOW' });
    expect(pool.add(nonceTx(1, 'carol', 1), 'rpc').ok).toBe(true);
    expect(text(reapAll(pool))).toEqual(['carol:1:']);
  });

  it('a commit that fills the gap from elsewhere promotes held transactions', () => {
    const { pool } = execPool();
    pool.add(nonceTx(1, 'dave', 1), 'rpc');
    expect(reapAll(pool)).toEqual([]);
    pool.update(1, [nonceTx(1, 'dave', 0)]);
    expect(text(reapAll(pool))).toEqual(['dave:1:']);
  });

  it('dropping a nonce in the middle holds the later ones until it is re-submitted', () => {
    const { pool } = execPool();
    for (let n = 0; n < 3; n++) pool.add(nonceTx(1, 'erin', n), 'rpc');
    pool.invalidate(txHash(nonceTx(1, 'erin', 1)), 'bad signature');
    expect(text(reapAll(pool))).toEqual(['erin:0:']);
    pool.add(nonceTx(1, 'erin', 1), 'rpc');
    expect(text(reapAll(pool))).toEqual(['erin:0:', 'erin:1:', 'erin:2:']);
  });

  it('held transactions whose gap never fills expire after heldTtlMs', () => {
    const { pool, clock } = execPool({ heldTtlMs: 500 });
    const held = nonceTx(1, 'frank', 2);
    pool.add(held, 'rpc');
    clock.advance(500);
    expect(pool.status(txHash(held))).toMatchObject({ status: 'dropped', reason: 'expired' });
    expect(pool.stats().txs).toBe(0);
  });

  it('eviction in a full lane takes held (gapped) transactions before executable ones', () => {
    const { pool } = makePool({
      rollups: [rollup(1, { kind: 'transfer', maxPendingTxs: 3 })],
      classify: classifyNonceTx,
      limits: { maxNonceGap: 5 },
    });
    pool.add(nonceTx(1, 'a', 0), 'gossip');
    pool.add(nonceTx(1, 'b', 3), 'gossip'); // held
    pool.add(nonceTx(1, 'c', 0), 'gossip');
    pool.add(nonceTx(1, 'd', 0), 'gossip');
    expect(pool.status(txHash(nonceTx(1, 'b', 3)))).toMatchObject({ reason: 'evicted' });
    expect(text(reapAll(pool))).toEqual(['a:0:', 'c:0:', 'd:0:']);
  });
});
