/**
 * Where one EVM transaction's CPU goes in the executor, stage by stage, on one thread (session 15):
 * the stages a worker and the coordinator run for each transaction of bench/exec-cpu.ts's workloads,
 * each timed alone over the whole block with the thread's CPU clock (medians of --rounds rounds):
 *   prepare    decode + sender recovery (a worker without the coordinator's proof)
 *   restore    decode with a known proof (a worker with it; the coordinator's re-execution)
 *   execute    ethereumjs runTx through our state view (TxView + ViewStateManager), effects recorded
 *   flatten    the worker's result array (reads, writes, credits per transaction)
 *   clone      structured clone of the chunks' result arrays (postMessage serializes in the worker and
 *              deserializes on the coordinator: both halves)
 *   validate   the coordinator's read checks and overlay writes for a valid speculative result
 * Needs the signed blocks bench/exec-cpu.ts caches: run that once with the same --n first.
 *
 *   node bench/exec-stages.ts [--n 2000] [--rounds 3] [--only erc20,low,high] [--out FILE]
 */
import { loadavg } from 'node:os';
import { deserialize, serialize } from 'node:v8';
import { type AnyVm, type BlockContext, createVm, TxView } from '../src/exec/index.ts';
import { benchEvmRollup } from './lib/evm-rollup.ts';
import { writeResult } from './lib/json-out.ts';

type Bytes = string;
type Val = string | null;

// The executor's own steps (src/exec/engine.ts), through the public surface: a transaction runs in a
// recording TxView over committed state + the block's overlay, then its writes and credits apply.
const overlayGet =
  (overlay: Map<Bytes, Val>, committed: Map<Bytes, Bytes>) =>
  (k: Bytes): Bytes | undefined => {
    const v = overlay.get(k);
    return v !== undefined ? (v ?? undefined) : committed.get(k);
  };
async function runTx(vm: AnyVm, tx: unknown, base: (k: Bytes) => Bytes | undefined, ctx: BlockContext) {
  const view = new TxView(base);
  const outcome = await vm.execute(tx, view, ctx);
  return { outcome, effects: view.effects() };
}
function applyEffects(
  vm: AnyVm,
  overlay: Map<Bytes, Val>,
  get: (k: Bytes) => Bytes | undefined,
  writes: Map<Bytes, Val>,
  credits: Map<Bytes, bigint>,
): void {
  for (const [k, v] of writes) overlay.set(k, v);
  for (const [k, a] of credits) overlay.set(k, vm.applyCredit(get(k), a) ?? null);
}

const argv = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = argv.indexOf(k);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
};
const N = Number(opt('--n', '2000'));
const ROUNDS = Number(opt('--rounds', '3'));
const ONLY = opt('--only', 'erc20,low,high').split(',');
const OUT = opt('--out', '');
const CACHE = opt('--cache', '/tmp');
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(ROUNDS) || ROUNDS < 1)
  throw new RangeError('--n and --rounds must be positive integers');

// The signed blocks bench/exec-cpu.ts caches (run it once with the same --n and --warmup 1000 first).
const file = `${CACHE}/ordo-exec-cpu-${N}-1000.json`;
const j = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8')) as {
  addrs: string[];
  setup: string[];
  blocks: Record<string, { warm: string[]; main: string[] }>;
};
const dec = (xs: string[]) => xs.map((x) => new Uint8Array(Buffer.from(x, 'hex')));
const rollup = benchEvmRollup(2, 1337, dec(j.addrs), 10n ** 21n);
const ctx = { height: 3, timeMs: 1_700_000_000_000 };
const cpu = () => {
  const u = process.threadCpuUsage();
  return u.user + u.system;
};
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;

async function stages(vm: AnyVm, committed: Map<Bytes, Bytes>, payloads: Uint8Array[]) {
  const t: Record<string, number> = {};
  let c = cpu();
  const lap = (k: string) => {
    const now = cpu();
    t[k] = (now - c) / payloads.length;
    c = now;
  };
  const prepared = payloads.map((p) => vm.prepare(p));
  lap('prepare');
  const proofs = prepared.map((p) => (p.ok ? p.proof : ''));
  const txs = payloads.map((p, i) => vm.restore(p, proofs[i]!));
  lap('restore');
  const overlay = new Map<Bytes, Val>();
  const base = overlayGet(overlay, committed);
  const results = [];
  for (const tx of txs) {
    const r = await runTx(vm, tx, base, ctx);
    applyEffects(vm, overlay, base, r.effects.writes, r.effects.credits);
    results.push(r);
  }
  lap('execute');
  const chunks: unknown[][] = [];
  for (let s = 0; s < results.length; s += 48) {
    const out: unknown[] = [];
    for (let i = s; i < Math.min(s + 48, results.length); i++) {
      const { outcome, effects } = results[i]!;
      out.push(1, proofs[i], outcome, effects.reads.size);
      for (const [k, v] of effects.reads) out.push(k, v);
      out.push(effects.writes.size);
      for (const [k, v] of effects.writes) out.push(k, v);
      out.push(effects.credits.size);
      for (const [k, v] of effects.credits) out.push(k, v);
    }
    chunks.push(out);
  }
  lap('flatten');
  const cloned = chunks.map((o) => deserialize(serialize(o)) as unknown[]);
  lap('clone');
  // Coordinator: every result valid against the state before the block (low contention's case).
  const ov2 = new Map<Bytes, Val>();
  const get = overlayGet(ov2, committed);
  let bad = 0;
  for (const out of cloned) {
    let o = 0;
    while (o < out.length) {
      o += 3;
      const nReads = out[o++] as number;
      for (let r = 0; r < nReads; r++) {
        if ((get(out[o] as Bytes) ?? null) !== out[o + 1]) bad++;
        o += 2;
      }
      const nW = out[o++] as number;
      for (let w = 0; w < nW; w++, o += 2) ov2.set(out[o] as Bytes, out[o + 1] as Val);
      const nC = out[o++] as number;
      for (let w = 0; w < nC; w++, o += 2)
        ov2.set(out[o] as Bytes, vm.applyCredit(get(out[o] as Bytes), out[o + 1] as bigint) ?? null);
    }
  }
  lap('validate');
  const bytes = cloned.reduce((a, o) => a + serialize(o).byteLength, 0) / payloads.length;
  return { t, bad, bytesPerTx: Math.round(bytes) };
}

const out: Record<string, unknown> = {};
for (const name of ONLY) {
  const vm = await createVm(rollup);
  // Committed state: genesis, then (erc20) the token and its holders, via the sequential path.
  const committed = new Map(vm.genesis());
  const ov = new Map<Bytes, Val>();
  const g = overlayGet(ov, committed);
  if (name === 'erc20') {
    for (const p of dec(j.setup)) {
      const pr = vm.prepare(p);
      if (!pr.ok) throw new Error(pr.error);
      const r = await runTx(vm, pr.tx, g, { height: 1, timeMs: ctx.timeMs });
      applyEffects(vm, ov, g, r.effects.writes, r.effects.credits);
    }
    for (const [k, v] of ov)
      if (v === null) committed.delete(k);
      else committed.set(k, v);
  }
  const blk = j.blocks[name]!;
  await stages(vm, committed, dec(blk.warm)); // JIT warm-up on other senders
  const main = dec(blk.main);
  const rounds: Record<string, number>[] = [];
  let extra = { bad: 0, bytesPerTx: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    // Every round starts from the same state: a fresh VM would drop its sender memo, so ask for prepare
    // on bytes the memo has not seen (the memo is keyed by payload; clear by recreating the VM).
    const fresh = await createVm(rollup);
    const s = await stages(fresh, committed, main);
    rounds.push(s.t);
    extra = { bad: s.bad, bytesPerTx: s.bytesPerTx };
  }
  const med: Record<string, number> = {};
  for (const k of Object.keys(rounds[0]!)) med[k] = Math.round(median(rounds.map((x) => x[k]!)) * 10) / 10;
  out[name] = { cpuMicrosPerTx: med, invalidReads: extra.bad, resultBytesPerTx: extra.bytesPerTx };
  process.stderr.write(`[exec-stages] ${name}: ${JSON.stringify(out[name])}\n`);
}
writeResult(
  {
    stages: out,
    meta: {
      n: N,
      rounds: ROUNDS,
      node: process.version,
      loadavgStart: loadavg(),
      date: new Date().toISOString(),
    },
  },
  OUT,
);
