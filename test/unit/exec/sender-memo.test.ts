/**
 * The EVM's sender memo (ADR 0180): a payload's sender is recovered once per node. A second `prepare`
 * of the same bytes, a worker handed the coordinator's proof and a payload whose sender this node's
 * admission reported must all give what a fresh recovery gives; the parallel executor fed those proofs
 * must produce the sequential executor's results bit for bit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExecutor,
  EvmVm,
  type Executor,
  encodeResult,
  memoryKvFactory,
} from '../../../src/exec/index.ts';
import { EVM_NS, evmAddr, evmAddrHex, evmTx, rollups } from './helpers.ts';

const evmRollup = () => rollups({ evmBalance: '3000000000000000' }).find((r) => r.namespace === EVM_NS)!;

describe('EVM sender memo', () => {
  it('a second prepare of the same bytes gives the same proof and sender, without recovering again', async () => {
    const vm = await EvmVm.create(evmRollup());
    const raw = evmTx(3, { to: evmAddr(4), value: 1n, nonce: 0n });
    const a = vm.prepare(raw);
    const b = vm.prepare(Uint8Array.from(raw)); // other array, same bytes
    if (!a.ok || !b.ok) throw new Error('prepare failed');
    expect(b.proof).toBe(a.proof);
    expect(b.tx.getSenderAddress().toString()).toBe(evmAddrHex(3));
    expect(Buffer.from(b.tx.hash())).toEqual(Buffer.from(a.tx.hash()));
    expect(vm.knownProof(raw)).toBe(a.proof);
    expect(Buffer.from(vm.knownSender(raw)!)).toEqual(Buffer.from(a.tx.getSenderAddress().bytes));
    // A malformed payload is never remembered.
    expect(vm.prepare(raw.subarray(0, 20)).ok).toBe(false);
    expect(vm.knownProof(raw.subarray(0, 20))).toBeUndefined();
  });

  it('keeps what admission reported, bounded, oldest dropped first', async () => {
    const vm = await EvmVm.create(evmRollup());
    const raw = evmTx(5, { to: evmAddr(4), value: 1n, nonce: 0n });
    const fresh = await EvmVm.create(evmRollup());
    const want = fresh.prepare(raw);
    if (!want.ok) throw new Error('prepare failed');
    vm.noteSender(raw, Buffer.from(want.proof, 'latin1'));
    const got = vm.prepare(raw);
    if (!got.ok) throw new Error('prepare failed');
    expect(got.tx.getSenderAddress().toString()).toBe(evmAddrHex(5));
    for (let i = 0; i < 16_384; i++) vm.noteSender(Uint8Array.of(i >> 8, i & 255, 1), new Uint8Array(64));
    expect(vm.knownProof(raw)).toBeUndefined();
    expect(vm.knownProof(Uint8Array.of(0, 0, 1))).toBeDefined();
  });
});

describe('parallel executor with the coordinator’s proofs', () => {
  let seq: Executor;
  let par: Executor;
  let probe: EvmVm;
  beforeAll(async () => {
    probe = await EvmVm.create(evmRollup());
    const cfg = rollups({ evmBalance: '3000000000000000' });
    seq = createExecutor({ rollups: cfg, kv: memoryKvFactory().kv, workers: 0 });
    par = createExecutor({ rollups: cfg, kv: memoryKvFactory().kv, workers: 2, chunkSize: { evm: 3 } });
    await Promise.all([seq.start(), par.start()]);
  });
  afterAll(async () => {
    await Promise.all([seq.stop(), par.stop()]);
  });

  it('gives the sequential results whether a payload was classified, reported or neither', async () => {
    for (let h = 1; h <= 3; h++) {
      const txs: Uint8Array[] = [];
      for (let s = 0; s < 9; s++)
        txs.push(evmTx(s, { to: evmAddr((s + h) % 9), value: BigInt(h), nonce: BigInt(h - 1) }));
      txs.push(evmTx(9, { to: evmAddr(1), value: 1n, nonce: 7n })); // bad nonce: invalid either way
      txs.push(txs[0]!.subarray(0, 30)); // malformed
      // A third classified (mempool), a third reported by admission (the key a fresh recovery gives),
      // a third neither: the workers recover those themselves.
      for (let i = 0; i < txs.length; i++) {
        const p = txs[i]!;
        if (i % 3 === 0) {
          const c = par.classify(EVM_NS, p);
          const known = par.knownSender!(EVM_NS, p);
          if ('error' in c) expect(known).toBeUndefined();
          else expect(`0x${Buffer.from(known!).toString('hex')}`).toBe(c.sender);
        } else if (i % 3 === 1) {
          const fresh = probe.prepare(p);
          if (fresh.ok) par.noteSender!(EVM_NS, p, Buffer.from(fresh.proof, 'latin1'));
        }
      }
      const block = new Map([[EVM_NS, txs]]);
      const a = await seq.executeBlock(h, block, h * 1000);
      const b = await par.executeBlock(h, block, h * 1000);
      expect(Buffer.from(encodeResult(b.get(EVM_NS)!)).toString('hex')).toBe(
        Buffer.from(encodeResult(a.get(EVM_NS)!)).toString('hex'),
      );
    }
  });
});
