/**
 * A validator's main-thread work per ERC-20 transfer outside execution (ADR 0339), in process, against
 * another checkout of Ordo in the same process (A/B under the same host load; order alternates per round):
 *   admit:  Ethereum admission of the raw bytes (`EvmAdmission.check` + `admitted`: hint and sender memo),
 *           then the block index builds the block (the admitting node)
 *   gossip: the mempool's classification (`EvmVm.classify`), then the block index (every other node)
 *   render: eth_getBlockReceipts' JSON of that block (only the node a client asks)
 * No execution: each block's receipts are made up (one Transfer log each, as the token emits). Each
 * round is --n transfers from --n senders, new payloads every round; main-thread CPU
 * (`process.threadCpuUsage`) per transfer, medians over rounds.
 *
 *   node bench/eth-main-thread.ts [--n 400] [--rounds 12] [--base /path/to/other/checkout/src] [--out FILE]
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createTx } from '@ethereumjs/tx';
import { abEvmSetup, AB_CHAIN as CHAIN, AB_NS as NS } from './lib/ab-evm.ts';
import { writeResult } from './lib/json-out.ts';

const { args, roots, N, ROUNDS, keys, addrs, rollup, common } = abEvmSetup({ seed: 'mt', rounds: '12' });
const token = new Uint8Array(20).fill(0x77);
const TRANSFER = new Uint8Array(
  Buffer.from('ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', 'hex'),
);
const word = (a: Uint8Array) => {
  const w = new Uint8Array(32);
  w.set(a, 12);
  return w;
};
/** transfer(to, 1): the ERC-20 call data. */
const callData = (to: Uint8Array) => {
  const d = new Uint8Array(68);
  d.set([0xa9, 0x05, 0x9c, 0xbb], 0);
  d.set(to, 16);
  d[67] = 1;
  return d;
};
const rounds: Uint8Array[][] = [];
for (let r = 0; r < ROUNDS; r++)
  rounds.push(
    keys.map((k, i) =>
      createTx(
        {
          type: 2,
          maxFeePerGas: 2_000_000_000n,
          maxPriorityFeePerGas: 0n,
          to: token,
          data: callData(addrs[(i + 1) % N]!),
          gasLimit: 100_000n,
          nonce: BigInt(r),
        },
        { common },
      )
        .sign(k)
        .serialize(),
    ),
  );
const receiptsOf = (r: number) =>
  rounds[r]!.map((_, i) => ({
    index: i,
    status: 'success' as const,
    gasUsed: 35_000n,
    logs: [
      {
        address: token,
        topics: [TRANSFER, word(addrs[i]!), word(addrs[(i + 1) % N]!)],
        data: word(Uint8Array.of(1)),
      },
    ],
  }));

type Kv = {
  get(k: Uint8Array): Promise<Uint8Array | undefined>;
  put(k: Uint8Array, v: Uint8Array): Promise<void>;
  batch(w: { key: Uint8Array; value: Uint8Array }[]): Promise<void>;
};
const memoryKv = (): Kv => {
  const m = new Map<string, Uint8Array>();
  const k = (b: Uint8Array) => Buffer.from(b).toString('latin1');
  return {
    get: async (key) => m.get(k(key)),
    put: async (key, v) => void m.set(k(key), v),
    batch: async (ws) => {
      for (const w of ws) m.set(k(w.key), w.value);
    },
  };
};

type Any = any;
interface Node {
  vm: Any;
  chain: Any;
  admission: Any;
  render: Any;
  height: number;
}
async function node(root: string): Promise<Node> {
  const exec = await import(`${root}/exec/index.ts`);
  const chainMod = await import(`${root}/eth-rpc/chain.ts`);
  const adm = await import(`${root}/eth-rpc/admission.ts`);
  const render = await import(`${root}/eth-rpc/render.ts`);
  const vm = await exec.EvmVm.create(rollup);
  const c = createCustomCommon({ chainId: CHAIN }, Mainnet, {
    hardfork: Hardfork.Prague,
    customCrypto: exec.evmCustomCrypto,
  });
  const decodeCommon = exec.txCommon(c);
  const n: Node = { vm, chain: undefined, admission: undefined, render, height: 0 };
  const hashOf = (h: number) => new Uint8Array(createHash('sha256').update(`h${h}`).digest());
  let payloads: Uint8Array[] = [];
  let receipts: unknown[] = [];
  n.chain = new chainMod.EvmChain({
    namespace: NS,
    common: decodeCommon,
    baseFee: 1_000_000_000n,
    genesisTimeMs: 0,
    kv: memoryKv(),
    source: {
      getBlock: async (h: number) =>
        h === n.height
          ? {
              header: { height: h, timeMs: h * 1000 },
              txs: payloads.map((payload) => ({ namespace: NS, payload })),
              bundles: [],
            }
          : undefined,
      getBlockHash: async (h: number) => hashOf(h),
      getResult: async (_ns: number, h: number) =>
        h === n.height
          ? { namespace: NS, height: h, receipts, stateRoot: hashOf(-h), resultsHash: hashOf(-h - 1e6) }
          : undefined,
      executedHeight: () => n.height,
      baseHeight: () => 0,
      knownSender: (raw: Uint8Array) => vm.knownSender(raw),
    },
  });
  (n as Any).setBlock = (p: Uint8Array[], r: unknown[]) => {
    payloads = p;
    receipts = r;
    n.height++;
  };
  n.admission = new adm.EvmAdmission({
    common: decodeCommon,
    chainId: BigInt(CHAIN),
    baseFee: 1_000_000_000n,
    maxTxBytes: 100_000,
    blockGasLimit: 30_000_000n,
    account: () => ({ nonce: 0n, balance: 10n ** 30n }),
    hintSender: (...a: unknown[]) => n.chain.hintSender(...a),
    noteSender: (p: Uint8Array, pub: Uint8Array) => vm.noteSender(p, pub),
  });
  return n;
}

const versions = Object.keys(roots);
const nodes: Record<string, Record<'admit' | 'gossip', Node>> = {};
for (const v of versions) nodes[v] = { admit: await node(roots[v]!), gossip: await node(roots[v]!) };
const cpu = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};
const samples: Record<string, number[]> = {};
const push = (k: string, us: number) => {
  samples[k] ??= [];
  samples[k]!.push(Math.round(us / N));
};
async function round(v: string, r: number): Promise<void> {
  const payloads = rounds[r]!;
  const receipts = receiptsOf(r);
  for (const path of ['admit', 'gossip'] as const) {
    const n = nodes[v]![path];
    const t0 = cpu();
    if (path === 'admit')
      for (const p of payloads) {
        n.admission.check(p);
        n.admission.admitted(p);
      }
    else for (const p of payloads) n.vm.classify(p);
    (n as Any).setBlock(payloads, receipts);
    n.chain.advance(n.height);
    await n.chain.settled();
    const t1 = cpu();
    push(`${v}-${path}`, t1 - t0);
    if (path === 'gossip') {
      const b = await n.chain.block(n.height);
      const t2 = cpu();
      JSON.stringify(b.txs.map((t: unknown) => n.render.receiptJson(b, t)));
      push(`${v}-render`, cpu() - t2);
    }
  }
}
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? versions : [...versions].reverse();
  for (const v of order) await round(v, r);
}
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : Math.round((s[s.length / 2 - 1]! + s[s.length / 2]!) / 2);
};
// The first two rounds warm the JIT: left out of the medians.
const medians = Object.fromEntries(Object.entries(samples).map(([k, a]) => [k, median(a.slice(2))]));
const ratio = (p: string) => +(medians[`this-${p}`]! / medians[`base-${p}`]!).toFixed(3);
const out = {
  bench: 'eth-main-thread',
  date: new Date().toISOString(),
  params: { n: N, rounds: ROUNDS, base: args.base ?? null },
  mainThreadCpuMicrosPerTxMedian: medians,
  ...(args.base === undefined
    ? {}
    : {
        admitThisOverBase: ratio('admit'),
        gossipThisOverBase: ratio('gossip'),
        renderThisOverBase: ratio('render'),
      }),
  mainThreadCpuMicrosPerTx: samples,
  loadAvg: loadavg().map((x) => +x.toFixed(2)),
  note: 'main-thread CPU per ERC-20 transfer (process.threadCpuUsage); admit = admission + index, gossip = classification + index, render = eth_getBlockReceipts JSON; no execution; medians over rounds after the first two',
};
writeResult(out, args.out);
