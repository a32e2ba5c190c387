/**
 * The fault matrix's history checker (testnet/history-check.ts) and the load generator's acknowledgement log
 * (src/loadgen/acks.ts): fake nodes (testnet/testing/fake-node.ts) serve hand-made chains, so missing,
 * duplicated, misplaced and not-yet-visible transactions are each produced on purpose.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AckLog, BlockFollower, LoadGenerator } from '../../../src/loadgen/index.ts';
import { OpaquePayloads } from '../../../src/loadgen/payloads.ts';
import { formatMatrixTable, matrixCases } from '../../../testnet/faults.ts';
import { ChainHistory, historyProblems } from '../../../testnet/history-check.ts';
import { FakeNode } from '../../../testnet/testing/fake-node.ts';

const nodes: FakeNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

const tx = (i: number): string => `0x${createHash('sha256').update(`tx-${i}`).digest('hex')}`;

/** A fake node that never seals blocks by itself, holding `chain` (one array of tx numbers per height). */
async function nodeWith(chain: number[][]): Promise<FakeNode> {
  const n = new FakeNode({ blockMs: 3_600_000 });
  nodes.push(n);
  await n.start();
  chain.forEach((txs, i) => {
    n.blocks.push({
      height: i + 1,
      hash: `0x${createHash('sha256')
        .update(`block-${i + 1}`)
        .digest('hex')}`,
      txs: txs.map((t, index) => ({ index, namespace: 1, hash: tx(t), data: '0x' })),
      timeMs: 0,
    });
  });
  return n;
}

function acksOf(entries: [number, number][]): AckLog {
  const a = new AckLog();
  for (const [t, h] of entries) a.record(tx(t), h);
  return a;
}

describe('AckLog', () => {
  it('keeps the first height of a hash and counts, never keeps, what exceeds its cap', () => {
    const a = new AckLog(2);
    a.record('0x01', 5);
    a.record('0x01', 6);
    a.record('0x02', 7);
    a.record('0x03', 8);
    expect(a.size).toBe(2);
    expect(a.height('0x01')).toBe(5);
    expect(a.repeated).toBe(1);
    expect(a.dropped).toBe(1);
    expect([...a.entries()]).toEqual([
      { hash: '0x01', height: 5 },
      { hash: '0x02', height: 7 },
    ]);
  });

  it('is filled by the load generator with every transaction it saw committed', async () => {
    const n = new FakeNode({ blockMs: 50 });
    nodes.push(n);
    await n.start();
    const follower = new BlockFollower({ urls: [n.url], fromHeight: 0 });
    await follower.start();
    const acks = new AckLog();
    const gen = new LoadGenerator({
      urls: [n.url],
      rate: 200,
      durationSec: 0.5,
      drainMs: 2000,
      sources: [new OpaquePayloads(1, 32)],
      follower,
      acks,
    });
    const r = await gen.run();
    follower.stop();
    expect(r.committedTxs).toBeGreaterThan(0);
    expect(acks.size).toBe(r.committedTxs);
    for (const b of n.blocks)
      for (const t of b.txs)
        if (acks.height(t.hash) !== undefined) expect(acks.height(t.hash)).toBe(b.height);
  });
});

describe('history checker', () => {
  it('finds every acknowledged transaction exactly once on every node', async () => {
    const chain = [[1, 2], [], [3]];
    const a = await nodeWith(chain);
    const b = await nodeWith(chain);
    const h = new ChainHistory([
      { id: 'a', rpc: a.url },
      { id: 'b', rpc: b.url },
    ]);
    try {
      await h.sync();
      const f = h.check(
        acksOf([
          [1, 1],
          [2, 1],
          [3, 3],
        ]),
      );
      expect(f).toMatchObject({
        acknowledged: 3,
        foundOnce: 3,
        missing: 0,
        duplicated: 0,
        heightMismatch: 0,
      });
      expect(f.heights).toEqual({ a: 3, b: 3 });
      expect(historyProblems(f)).toEqual([]);
    } finally {
      h.close();
    }
  });

  it('reports a transaction missing on one node, duplicated on another, and one at another height', async () => {
    const a = await nodeWith([[1, 2], [3], [4]]);
    const b = await nodeWith([[1], [3, 2], [4, 1]]);
    const h = new ChainHistory([
      { id: 'a', rpc: a.url },
      { id: 'b', rpc: b.url },
    ]);
    try {
      await h.sync();
      const f = h.check(
        acksOf([
          [1, 1],
          [2, 1],
          [3, 2],
          [4, 3],
          [5, 2],
        ]),
      );
      expect(f.acknowledged).toBe(5);
      expect(f.missing).toBe(1); // tx 5 is nowhere
      expect(f.examples.missing[0]).toBe(`${tx(5)}@2`);
      expect(f.duplicated).toBe(1); // tx 1 twice on b
      expect(f.chainDuplicates).toBe(1);
      expect(f.heightMismatch).toBe(1); // tx 2 at height 2 on b
      expect(f.foundOnce).toBe(2); // tx 3 and tx 4
      expect(historyProblems(f)).toHaveLength(4);
    } finally {
      h.close();
    }
  });

  it('counts what a node has not reached yet as not visible, not as missing, and reads only new blocks', async () => {
    const a = await nodeWith([[1], [2]]);
    const b = await nodeWith([[1]]);
    const h = new ChainHistory([
      { id: 'a', rpc: a.url },
      { id: 'b', rpc: b.url },
    ]);
    try {
      await h.sync();
      let f = h.check(
        acksOf([
          [1, 1],
          [2, 2],
        ]),
      );
      expect(f).toMatchObject({ missing: 0, notYetVisible: 1, foundOnce: 1 });
      b.blocks.push({
        height: 2,
        hash: '0x02',
        txs: [{ index: 0, namespace: 1, hash: tx(2), data: '0x' }],
        timeMs: 0,
      });
      await h.sync();
      f = h.check(
        acksOf([
          [1, 1],
          [2, 2],
        ]),
      );
      expect(f).toMatchObject({ missing: 0, notYetVisible: 0, foundOnce: 2, chainDuplicates: 0 });
    } finally {
      h.close();
    }
  });

  it('names a node it cannot read and says when its index is full', async () => {
    const a = await nodeWith([[1], [2], [3]]);
    const h = new ChainHistory(
      [
        { id: 'a', rpc: a.url },
        { id: 'gone', rpc: 'http://127.0.0.1:1' },
      ],
      2,
    );
    try {
      await h.sync();
      const f = h.check(acksOf([[1, 1]]));
      expect(Object.keys(f.unreachable)).toEqual(['gone']);
      expect(f.truncated).toBe(true);
      expect(f.heights.a).toBe(2);
      expect(historyProblems(f)).toContain('history index full: later heights not checked');
    } finally {
      h.close();
    }
  });
});

describe('ChainHistory reads', () => {
  it('tries a read again on a fresh socket when the node hung up, instead of calling it unreachable', async () => {
    const a = await nodeWith([[1], [2]]);
    let hangUps = 1;
    // In front of the fake node: the first request's socket is closed without an answer ("socket hang up").
    const proxy = createServer((req, res) => {
      if (hangUps > 0) {
        hangUps--;
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void fetch(a.url, {
          method: 'POST',
          body: Buffer.concat(chunks),
          headers: { 'content-type': 'application/json' },
        })
          .then((r) => r.text())
          .then((t) => res.end(t));
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    const h = new ChainHistory([{ id: 'a', rpc: `http://127.0.0.1:${port}` }], 100);
    try {
      await h.sync();
      const f = h.check(
        acksOf([
          [1, 1],
          [2, 2],
        ]),
      );
      expect(f.unreachable).toEqual({});
      expect(f.heights.a).toBe(2);
      expect(f.missing).toBe(0);
    } finally {
      h.close();
      await new Promise((r) => proxy.close(r));
    }
  });
});

describe('matrix cases', () => {
  it('kills every validator in turn, ends with the disk-full case, and needs a quorum left', () => {
    const names = matrixCases(4, 'full').map((c) => c.name);
    expect(names.filter((n) => n.startsWith('kill-restart'))).toHaveLength(4);
    expect(names.some((n) => n.startsWith('double'))).toBe(true);
    expect(names).toContain('corrupt-store node2');
    expect(names.at(-1)).toBe('disk-full node3');
    expect(matrixCases(4, 'short').map((c) => c.steps[0]?.action)).toEqual(['kill', 'pause', 'partition']);
    expect(() => matrixCases(3, 'short')).toThrow(/at least 4 validators/);
  });
});

describe('matrix table', () => {
  it('prints one row per case, the final check and the verdict; a skipped case says why', () => {
    const history = {
      acknowledged: 10,
      ackDropped: 0,
      foundOnce: 10,
      missing: 0,
      duplicated: 0,
      heightMismatch: 0,
      notYetVisible: 0,
      chainDuplicates: 0,
      heights: { node0: 5 },
      unreachable: {},
      examples: { missing: [], duplicated: [], heightMismatch: [] },
      truncated: false,
    };
    const text = formatMatrixTable({
      startedAt: '',
      validators: 4,
      loadTxPerSec: 50,
      faultSeconds: 3,
      recoveryBudgetSec: 20,
      matrix: 'full',
      partitions: 'admin-rpc',
      loadAverage: { start: 1.5, end: 2 },
      diskFullNode: 'node3',
      cases: [
        {
          name: 'kill-restart node1',
          steps: [{ action: 'kill', nodes: ['node1'] }],
          faultMs: 3100,
          endActionMs: 2500,
          recovery: {
            headAtEnd: 4,
            target: 5,
            perNodeMs: { node0: 100, node1: 4200 },
            maxMs: 4200,
            withinBudget: true,
          },
          safety: { checkedHeights: 5, conflictingCommits: 0, conflicts: [] },
          history,
          problems: [],
          notes: [],
          ok: true,
        },
        { name: 'disk-full node3', steps: [], skipped: 'not root', problems: [], notes: [], ok: true },
      ],
      final: { safety: { checkedHeights: 5, conflictingCommits: 0, conflicts: [] }, history, problems: [] },
      load: null,
      worstRecoveryMs: 4200,
      notRecovered: [],
      ok: true,
    });
    expect(text).toMatch(
      /kill-restart node1\s+3\.1\s+2\.5\s+4\.2\s+node1\s+ok 5h\s+10\s+10\s+0\s+0\s+0\s+ok/,
    );
    expect(text).toMatch(/disk-full node3: skipped: not root/);
    expect(text).toMatch(
      /fault matrix PASSED: 1 cases run, 1 skipped, worst recovery 4\.2 s \(budget 20 s\)/,
    );
  });
});
