/**
 * The executor's EVM keeps each contract's jump-destination analysis (ADR 0324) and hashes short
 * keccak inputs through a memo (ADR 0325). Both are pure functions of their inputs, so a VM with the
 * caches and one without must give the same outcome
 * (status, gas, logs, return data, errors) and the same reads, writes and credits for every
 * transaction: a compiled ERC-20 (many jumps), the hand-assembled counter (a JUMPI, a revert), a jump
 * into PUSH data (invalid), and the same code deployed at two addresses (one cached array, two accounts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Abi, encodeDeployData, encodeFunctionData, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { COUNTER_RUNTIME, deployCode, word } from '../../../src/exec/evm/contracts.ts';
import { EvmVm } from '../../../src/exec/index.ts';
import { TxView } from '../../../src/exec/view.ts';
import { EVM_NS, type EvmTxOpts, evmAddr, evmTx, rollups } from './helpers.ts';

const artifact = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8'),
) as { abi: Abi; bytecode: Hex };
const hexBytes = (h: string) => new Uint8Array(Buffer.from(h.slice(2), 'hex'));
const evmRollup = () => rollups({ evmBalance: '100000000000000000000' }).find((r) => r.namespace === EVM_NS)!;

/** Runs `txs` one after another over a map state; every outcome and effect, comparable with toEqual. */
async function run(vm: EvmVm, txs: Uint8Array[]) {
  const state = vm.genesis();
  const out: unknown[] = [];
  for (const [i, raw] of txs.entries()) {
    const p = vm.prepare(raw);
    if (!p.ok) throw new Error(`tx ${i}: ${p.error}`);
    const view = new TxView((k) => state.get(k));
    const o = await vm.execute(p.tx, view, { height: 1 + i, timeMs: 1_700_000_000_000 + i * 1000 });
    const e = view.effects();
    for (const [k, v] of e.writes) {
      if (v === null) state.delete(k);
      else state.set(k, v);
    }
    for (const [k, c] of e.credits) {
      const next = vm.applyCredit(state.get(k), c);
      if (next === undefined) state.delete(k);
      else state.set(k, next);
    }
    out.push({ o, reads: [...e.reads], writes: [...e.writes], credits: [...e.credits] });
  }
  return out;
}

describe('EVM jump-analysis cache and keccak memo in block execution (ADRs 0324, 0325)', () => {
  it('gives the uncached outcomes and effects for compiled, assembled and invalid-jump code', async () => {
    const deployer = 0;
    const deploy = encodeDeployData({
      abi: artifact.abi,
      bytecode: artifact.bytecode,
      args: ['T', 'T', 10n ** 24n],
    });
    // Contract addresses: nonces 0 (token), 1 and 2 (counters, same code), 3 (bad jump) of the deployer.
    const { getContractAddress } = await import('viem');
    const from = `0x${Buffer.from(evmAddr(deployer)).toString('hex')}` as Hex;
    const at = (n: bigint) => hexBytes(getContractAddress({ from, nonce: n }));
    const token = at(0n);
    const transfer = (to: number, v: bigint) =>
      hexBytes(
        encodeFunctionData({
          abi: artifact.abi,
          functionName: 'transfer',
          args: [`0x${Buffer.from(evmAddr(to)).toString('hex')}`, v],
        }),
      );
    // PUSH1 4, JUMP, PUSH2 0x5b00: byte 4 is a JUMPDEST byte inside PUSH data, an invalid target.
    const badJump = Uint8Array.of(0x60, 0x04, 0x56, 0x61, 0x5b, 0x00);
    let dn = 0n;
    const d = (o: Omit<EvmTxOpts, 'nonce'>) => evmTx(deployer, { ...o, nonce: dn++ });
    const txs = [
      d({ data: hexBytes(deploy), gasLimit: 3_000_000n }),
      d({ data: deployCode(COUNTER_RUNTIME), gasLimit: 200_000n }),
      d({ data: deployCode(COUNTER_RUNTIME), gasLimit: 200_000n }),
      d({ data: deployCode(badJump), gasLimit: 200_000n }),
    ];
    // Token transfers out and back, one beyond the balance (a revert), counters on both addresses
    // (a revert with 0), the bad jump twice.
    for (let round = 0; round < 3; round++) {
      txs.push(d({ to: token, data: transfer(1 + round, 1000n), gasLimit: 100_000n }));
      txs.push(d({ to: at(1n), data: word(BigInt(round + 1)) }));
      txs.push(d({ to: at(2n), data: word(BigInt(round)) }));
      txs.push(d({ to: at(3n), gasLimit: 50_000n }));
    }
    txs.push(evmTx(1, { to: token, data: transfer(2, 10n ** 30n), nonce: 0n, gasLimit: 100_000n }));
    txs.push(evmTx(1, { to: token, data: transfer(2, 7n), nonce: 1n, gasLimit: 100_000n }));

    const cached = await run(await EvmVm.create(evmRollup()), txs);
    const plain = await run(await EvmVm.create(evmRollup(), { cacheCode: false, memoKeccak: false }), txs);
    expect(cached).toEqual(plain);
    const statuses = cached.map((x) => (x as { o: { status: string } }).o.status);
    // The runs exercised what they claim: successes, reverts and the invalid jump (an exceptional halt).
    expect(statuses.slice(0, 4)).toEqual(['success', 'success', 'success', 'success']);
    expect(statuses).toContain('revert');
    expect(statuses.at(-2)).toBe('revert');
    expect(statuses.at(-1)).toBe('success');
    expect((cached[7] as { o: { error?: string } }).o.error).toMatch(/invalid JUMP/i);
  });
});
