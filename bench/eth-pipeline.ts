/**
 * One node's EVM pipeline, in process: CPU per ERC-20 transfer from raw bytes to persisted results
 * (ADR 0180), optionally against another checkout of Ordo in the same process (A/B under the same host
 * load; order alternates per round). Two paths, alternating rounds:
 *   admit:  this node's Ethereum RPC admission (`decodeRaw`, then `noteSender` where the tree has it),
 *           then `executeBlock` with 2 workers (the admitting node)
 *   gossip: the mempool's classification (`executor.classify`), then `executeBlock` (every other node)
 * Each round is --n transfers of a hand-assembled token (src/exec/evm/contracts.ts; `--token ordo`: the
 * compiled ERC-20 of test/fixtures/evm that bench:eth uses, larger code with many jumps) from --n senders;
 * process CPU (main thread + workers) per transfer; the trees must end with equal state roots.
 *
 *   node bench/eth-pipeline.ts [--n 400] [--rounds 10] [--token assembled|ordo] [--base /path/to/other/checkout/src] [--out FILE]
 */

import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type Common, createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { bigIntToBytes, generateAddress } from '@ethereumjs/util';
import { type Abi, encodeDeployData, encodeFunctionData, type Hex } from 'viem';
import { AB_SRC, abEvmSetup, AB_CHAIN as CHAIN, hex, AB_NS as NS } from './lib/ab-evm.ts';
import { writeResult } from './lib/json-out.ts';

const cli = {
  seed: 'ab',
  rounds: '10',
  options: { token: { type: 'string' as const, default: 'assembled' } },
};
const { args, roots, N, ROUNDS, keys, addrs, rollup, common } = abEvmSetup(cli);
const here = AB_SRC;
type V = string;
const sign = (k: Uint8Array, o: Record<string, unknown>) =>
  createTx({ type: 2, maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 0n, value: 0n, ...o }, { common })
    .sign(k)
    .serialize();
const C = await import(`${here}/exec/evm/contracts.ts`);
const token = generateAddress(addrs[0]!, bigIntToBytes(0n));
const ORDO = args.token === 'ordo';
const fixture = ORDO
  ? (JSON.parse(readFileSync(join(here, '..', 'test', 'fixtures', 'evm', 'OrdoToken.json'), 'utf8')) as {
      abi: Abi;
      bytecode: Hex;
    })
  : undefined;
const fromHex = (h: Hex) => new Uint8Array(Buffer.from(h.slice(2), 'hex'));
/** The compiled token: mint to key 0, then one transfer to every sender (block 2). */
const ordoTransfer = (to: Uint8Array, v: bigint) =>
  fromHex(encodeFunctionData({ abi: fixture!.abi, functionName: 'transfer', args: [hex(to) as Hex, v] }));
const setup = ORDO
  ? [
      sign(keys[0]!, {
        data: fromHex(
          encodeDeployData({ abi: fixture!.abi, bytecode: fixture!.bytecode, args: ['B', 'B', 10n ** 30n] }),
        ),
        gasLimit: 3_000_000n,
        nonce: 0n,
      }),
      ...addrs.map((a, i) =>
        sign(keys[0]!, {
          to: token,
          data: ordoTransfer(a, 10n ** 20n),
          gasLimit: 100_000n,
          nonce: BigInt(1 + i),
        }),
      ),
    ]
  : [
      sign(keys[0]!, { data: C.deployCode(C.TOKEN_RUNTIME), gasLimit: 1_000_000n, nonce: 0n }),
      sign(keys[0]!, { to: token, data: C.tokenAirdropData(addrs), gasLimit: 30_000_000n, nonce: 1n }),
    ];
const transferData = (to: Uint8Array) => (ORDO ? ordoTransfer(to, 1n) : C.tokenTransferData(to, 1n));
/** Key 0's first nonce in the rounds. */
const firstNonce = ORDO ? BigInt(1 + N) : 2n;
const rounds: Uint8Array[][] = [];
for (let r = 0; r < ROUNDS; r++)
  rounds.push(
    keys.map((k, i) =>
      sign(k, {
        to: token,
        data: transferData(addrs[(i + 1) % N]!),
        gasLimit: 100_000n,
        nonce: BigInt(r) + (i === 0 ? firstNonce : 0n),
      }),
    ),
  );
const pino = (await import('pino')).pino({ level: 'silent' });
// Both trees' modules are typed as this tree's (the other may lack noteSender / txCommon).
type ExecMod = typeof import('../src/exec/index.ts');
type AdmMod = { decodeRaw: typeof import('../src/eth-rpc/index.ts').decodeRaw };
const sys: Record<V, { ex: import('../src/exec/index.ts').Executor; adm: AdmMod; common: Common }> = {};
const versions = Object.keys(roots);
for (const v of versions) {
  const exec = (await import(`${roots[v]}/exec/index.ts`)) as Partial<ExecMod> & ExecMod;
  const adm = (await import(`${roots[v]}/eth-rpc/admission.ts`)) as AdmMod;
  const ex = exec.createExecutor({
    rollups: [rollup],
    kv: exec.memoryKvFactory().kv,
    workers: 2,
    logger: pino,
  });
  await ex.start();
  const c = createCustomCommon({ chainId: CHAIN }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: exec.evmCustomCrypto,
  });
  sys[v] = { ex, adm, common: (exec as Partial<ExecMod>).txCommon?.(c) ?? c };
  await ex.executeBlock(1, new Map([[NS, setup.slice(0, 1)]]), 1000);
  await ex.executeBlock(2, new Map([[NS, setup.slice(1)]]), 2000);
}
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const res: Record<string, number[]> = {};
const add = (k: string, x: number): void => {
  res[k] = [...(res[k] ?? []), x];
};
// Each round: 'admit' = this node's Ethereum admission then execution (the admitting node);
// 'gossip' = mempool classification then execution (every other validator). Alternating order.
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? versions : [...versions].reverse();
  const mode = r % 2 === 0 ? 'admit' : 'gossip';
  for (const v of order) {
    const { ex, adm, common: cm } = sys[v]!;
    const txs = rounds[r]!;
    const t0 = cpu();
    for (const raw of txs) {
      if (mode === 'admit') {
        const d = adm.decodeRaw(raw, cm, BigInt(CHAIN), 100_000);
        ex.noteSender?.(NS, raw, d.tx.getSenderPublicKey());
      } else ex.classify(NS, raw);
    }
    const rs = await ex.executeBlock(3 + r, new Map([[NS, txs]]), (3 + r) * 1000);
    const t1 = cpu();
    const bad = (rs.get(NS)?.receipts ?? []).filter((x) => x.status !== 'success').length;
    if (bad > 0) throw new Error(`${v} round ${r}: ${bad} failed`);
    add(`${v}-${mode}`, Math.round(((t1 - t0) * 1e6) / txs.length));
  }
}
const stateRoots = versions.map((v) => Buffer.from(sys[v]!.ex.head(NS).stateRoot).toString('hex'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const medians = Object.fromEntries(Object.entries(res).map(([k, xs]) => [k, median(xs)]));
const ratios =
  args.base === undefined
    ? {}
    : {
        admitThisOverBase: +(medians['this-admit']! / medians['base-admit']!).toFixed(3),
        gossipThisOverBase: +(medians['this-gossip']! / medians['base-gossip']!).toFixed(3),
      };
writeResult(
  {
    bench: 'eth-pipeline',
    date: new Date().toISOString(),
    params: { n: N, rounds: ROUNDS, workers: 2, token: ORDO ? 'ordo' : 'assembled', base: args.base ?? null },
    cpuMicrosPerTxMedian: medians,
    ...ratios,
    cpuMicrosPerTx: res,
    sameStateRoot: stateRoots.every((x) => x === stateRoots[0]),
    loadAvg: loadavg().map((x) => +x.toFixed(2)),
    note: 'process CPU (main + 2 workers) per ERC-20 transfer; admit = Ethereum admission + execution, gossip = mempool classification + execution; medians over rounds of each path; the first rounds include JIT warm-up',
  },
  args.out,
);
for (const v of versions) await sys[v]!.ex.stop();
