import { afterEach, describe, expect, it } from 'vitest';
import {
  createExecutor,
  decodeResult,
  decodeTransfer,
  decodeTransferAccount,
  type Executor,
  encodeResult,
  memoryKvFactory,
  TRANSFER_TX_LEN,
} from '../../../src/exec/index.ts';
import { encodeTransferAccount } from '../../../src/exec/transfer/vm.ts';
import { rollups, TRANSFER_NS, tPub, transfer } from './helpers.ts';

const open: Executor[] = [];
async function make(kv = memoryKvFactory(), workers = 0): Promise<Executor> {
  const ex = createExecutor({ rollups: rollups(), kv: kv.kv, workers });
  await ex.start();
  open.push(ex);
  return ex;
}
afterEach(async () => {
  for (const ex of open.splice(0)) await ex.stop();
});

describe('transfer VM', () => {
  it('encodes a fixed-size signed transaction', () => {
    const tx = transfer(0, 1, 5n, 0n);
    expect(tx.byteLength).toBe(TRANSFER_TX_LEN);
    const d = decodeTransfer(tx);
    expect(typeof d).not.toBe('string');
    if (typeof d !== 'string') {
      expect(d.amount).toBe(5n);
      expect(Buffer.from(d.from).toString('hex')).toBe(tPub(0));
    }
    expect(decodeTransfer(tx.subarray(1))).toMatch(/must be 153 bytes/);
  });

  it('account encoding matches the u128/u64 big-endian layout at every width', () => {
    const vals = [
      0n,
      1n,
      2n ** 32n - 1n,
      2n ** 53n - 1n,
      2n ** 53n,
      2n ** 64n - 1n,
      2n ** 64n,
      2n ** 128n - 1n,
    ];
    for (const balance of vals) {
      for (const nonce of [0n, 7n, 2n ** 53n + 3n, 2n ** 64n - 1n]) {
        const ref = Buffer.alloc(24);
        ref.writeBigUInt64BE(balance >> 64n, 0);
        ref.writeBigUInt64BE(balance & (2n ** 64n - 1n), 8);
        ref.writeBigUInt64BE(nonce, 16);
        const e = encodeTransferAccount({ balance, nonce });
        expect(e).toBe(ref.toString('latin1'));
        expect(decodeTransferAccount(e)).toEqual({ balance, nonce });
      }
    }
  });

  it('executes known vectors: success, revert, invalid nonce/signature/funds/namespace', async () => {
    const ex = await make();
    const forged = transfer(2, 3, 1n, 0n);
    forged[100] = forged[100]! ^ 1;
    const txs = [
      transfer(0, 8, 100n, 0n, 2n), // success
      transfer(0, 8, 100n, 0n), // bad nonce (replay)
      transfer(1, 9, 5000n, 0n, 3n), // revert: fee paid, amount not
      transfer(9, 1, 1n, 0n), // invalid: empty account cannot pay the fee
      forged, // bad signature
      transfer(4, 5, 1n, 0n, 1n, TRANSFER_NS + 1), // signed for another namespace
      new Uint8Array([1, 2, 3]), // malformed
      transfer(8, 10, 50n, 0n, 1n), // the account funded above spends
    ];
    const res = (await ex.executeBlock(1, new Map([[TRANSFER_NS, txs]]))).get(TRANSFER_NS)!;
    expect(res.receipts.map((r) => r.status)).toEqual([
      'success',
      'invalid',
      'revert',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'success',
    ]);
    expect(res.receipts[1]!.error).toMatch(/bad nonce/);
    expect(res.receipts[3]!.error).toMatch(/insufficient funds for fee/);
    expect(res.receipts[4]!.error).toMatch(/bad signature/);
    expect(res.receipts[5]!.error).toMatch(/bad signature/);
    expect(ex.accountNonce(TRANSFER_NS, tPub(0))).toBe(1n);
    expect(ex.accountNonce(TRANSFER_NS, tPub(1))).toBe(1n);
    expect(ex.accountNonce(TRANSFER_NS, tPub(8))).toBe(1n);
    expect(ex.accountNonce(TRANSFER_NS, tPub(9))).toBe(0n);
    expect(ex.executedNamespaces()).toEqual([TRANSFER_NS, 9]);
    expect(ex.classify(TRANSFER_NS, txs[0]!)).toEqual({ sender: tPub(0), nonce: 0n });
    expect(ex.classify(TRANSFER_NS, txs[6]!)).toHaveProperty('error');
    expect(ex.classify(3, txs[0]!)).toHaveProperty('error');
  });

  it('results encode canonically and round-trip', async () => {
    const ex = await make();
    const r = (
      await ex.executeBlock(1, new Map([[TRANSFER_NS, [transfer(0, 1, 1n, 0n), transfer(0, 1, 1n, 5n)]]]))
    ).get(TRANSFER_NS)!;
    const enc = encodeResult(r);
    const dec = decodeResult(enc);
    expect(dec).toEqual(r);
    expect(() => decodeResult(enc.subarray(0, enc.byteLength - 1))).toThrow();
  });

  it('is idempotent per height, rejects gaps, and keeps the state root across restart', async () => {
    const kv = memoryKvFactory();
    const a = await make(kv);
    const b1 = new Map([[TRANSFER_NS, [transfer(0, 1, 10n, 0n)]]]);
    const r1 = await a.executeBlock(1, b1);
    const r1again = await a.executeBlock(1, new Map());
    expect(r1again.get(TRANSFER_NS)).toEqual(r1.get(TRANSFER_NS));
    await expect(a.executeBlock(3, new Map())).rejects.toMatchObject({ code: 'EXEC_HEIGHT_GAP' });
    const r2 = await a.executeBlock(2, new Map([[TRANSFER_NS, [transfer(0, 2, 10n, 1n)]]]));
    const head = a.head(TRANSFER_NS);
    await a.stop();

    // Restart with the parallel executor: workers load the persisted state.
    const b = await make(kv, 2);
    expect(b.head(TRANSFER_NS)).toEqual(head);
    expect(b.accountNonce(TRANSFER_NS, tPub(0))).toBe(2n);
    expect((await b.executeBlock(2, new Map())).get(TRANSFER_NS)).toEqual(r2.get(TRANSFER_NS));
    const r3 = await b.executeBlock(3, new Map([[TRANSFER_NS, [transfer(0, 2, 10n, 2n)]]]));

    // A fresh node replaying the same blocks computes the same roots.
    const c = await make();
    await c.executeBlock(1, b1);
    await c.executeBlock(2, new Map([[TRANSFER_NS, [transfer(0, 2, 10n, 1n)]]]));
    const c3 = await c.executeBlock(3, new Map([[TRANSFER_NS, [transfer(0, 2, 10n, 2n)]]]));
    expect(c3.get(TRANSFER_NS)!.stateRoot).toEqual(r3.get(TRANSFER_NS)!.stateRoot);
    expect(c3.get(TRANSFER_NS)!.resultsHash).toEqual(r3.get(TRANSFER_NS)!.resultsHash);
    expect(await b.getReceipt(TRANSFER_NS, 3, 0)).toMatchObject({ status: 'success' });
  });

  it('notifies subscribers after results are persisted', async () => {
    const ex = await make();
    const seen: number[] = [];
    const off = ex.subscribe((h, r) => {
      seen.push(h);
      expect(r.has(TRANSFER_NS)).toBe(true);
    });
    await ex.executeBlock(1, new Map());
    off();
    await ex.executeBlock(2, new Map());
    expect(seen).toEqual([1]);
  });
});
