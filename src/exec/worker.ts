/**
 * Executor worker thread. Holds a replica of each executed rollup's committed state and one VM per
 * rollup; executes chunks of transactions for the coordinator (parallel.ts).
 *
 * Messages in:  {t:'load', ns, entries}  full state snapshot (on start)
 *               {t:'diff', ns, diff}     a committed block's net diff (null = deleted)
 *               {t:'job', id, ns, mode, payloads, proofs?, ctx, crash?}
 *               proofs[i], when set, is the coordinator's proof for payloads[i] (the same node already
 *               did its signature work): restored instead of prepared (ADR 0180)
 *               {t:'stop'}               exit once the job running now (if any) ends (ADR 0331): the
 *                                        coordinator stops workers this way, never by terminating them,
 *                                        so they may recover senders with the native secp256k1 addon
 * Messages out: {t:'ready'} once VMs are built; {t:'result', id, out} or {t:'error', id, error}.
 *
 * Result layout per transaction, flattened into one array (cheap to clone):
 *   [0, error]                                    prepare failed (malformed / bad signature)
 *   [2, proof]                                    mode 'prep': signature work only
 *   [1, proof, outcome, nReads, k, v, …, nWrites, k, v, …, nCredits, k, amount, …]   mode 'spec'
 * In 'spec' mode transactions run in order against replica + this chunk's earlier effects.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RollupConfig } from '../config/index.ts';
import { type AnyVm, applyEffects, createVm, overlayGet, runTx, type VmOptions } from './engine.ts';
import { allowNativeSecp256k1 } from './evm/ecrecover.ts';
import type { BlockContext, Bytes, Prepared } from './types.ts';
import type { Val } from './view.ts';

interface Init {
  rollups: RollupConfig[];
  vm: VmOptions;
}

type InMsg =
  | { t: 'load'; ns: number; entries: [Bytes, Bytes][] }
  | { t: 'diff'; ns: number; diff: [Bytes, Val][] }
  | {
      t: 'job';
      id: number;
      ns: number;
      mode: 'spec' | 'prep';
      payloads: Uint8Array[];
      proofs?: (string | null)[];
      ctx: BlockContext;
      crash?: boolean;
    }
  | { t: 'stop' };

const port = parentPort;
if (port === null) throw new Error('executor worker must run in a worker thread');
// This thread only ever ends by exiting itself ({t:'stop'}, or a crash): the native addon is safe here.
allowNativeSecp256k1();

const init = workerData as Init;
const replicas = new Map<number, Map<Bytes, Bytes>>();
const vms = new Map<number, AnyVm>();
const pending: InMsg[] = [];
let ready = false;
let chain: Promise<void> = Promise.resolve();

async function runJob(m: Extract<InMsg, { t: 'job' }>): Promise<void> {
  if (m.crash === true) {
    // Test hook: die as a real crash would (uncaught, mid-job).
    setImmediate(() => {
      throw new Error('injected worker crash');
    });
    await new Promise(() => {});
  }
  const vm = vms.get(m.ns);
  const replica = replicas.get(m.ns) ?? (m.mode === 'prep' ? new Map<Bytes, Bytes>() : undefined);
  if (vm === undefined || replica === undefined) {
    port!.postMessage({ t: 'error', id: m.id, error: `no VM for namespace ${m.ns}` });
    return;
  }
  const out: unknown[] = [];
  const overlay = new Map<Bytes, Val>();
  const base = overlayGet(overlay, replica);
  for (let i = 0; i < m.payloads.length; i++) {
    const payload = m.payloads[i]!;
    const p = prepared(vm, payload, m.proofs?.[i]);
    if (!p.ok) {
      out.push(0, p.error);
      continue;
    }
    if (m.mode === 'prep') {
      out.push(2, p.proof);
      continue;
    }
    const { outcome, effects } = await runTx(vm, p.tx, base, m.ctx);
    out.push(1, p.proof, outcome, effects.reads.size);
    for (const [k, v] of effects.reads) out.push(k, v);
    out.push(effects.writes.size);
    for (const [k, v] of effects.writes) out.push(k, v);
    out.push(effects.credits.size);
    for (const [k, v] of effects.credits) out.push(k, v);
    applyEffects(vm, overlay, base, effects.writes, effects.credits);
  }
  port!.postMessage({ t: 'result', id: m.id, out });
}

/** `vm.prepare`, or the coordinator's proof restored (a restore that fails falls back to prepare). */
function prepared(vm: AnyVm, payload: Uint8Array, proof: string | null | undefined): Prepared<unknown> {
  if (proof !== null && proof !== undefined) {
    try {
      return { ok: true, tx: vm.restore(payload, proof), proof };
    } catch {
      // not expected (the coordinator decoded these bytes): prepare says what is wrong
    }
  }
  return vm.prepare(payload);
}

function handle(m: InMsg): void {
  if (m.t === 'load') {
    replicas.set(m.ns, new Map(m.entries));
  } else if (m.t === 'diff') {
    const r = replicas.get(m.ns);
    if (r === undefined) return;
    for (const [k, v] of m.diff) {
      if (v === null) r.delete(k);
      else r.set(k, v);
    }
  } else if (m.t === 'job') {
    // Jobs run one at a time, in arrival order, so diffs and jobs stay ordered.
    chain = chain.then(() =>
      runJob(m).catch((err: unknown) => {
        port!.postMessage({ t: 'error', id: m.id, error: err instanceof Error ? err.message : String(err) });
      }),
    );
  }
}

port.on('message', (m: InMsg) => {
  if (m.t === 'stop') {
    // After the job running now, if any; jobs queued behind it were already failed by the coordinator.
    void chain.then(() => process.exit(0));
    return;
  }
  if (!ready) {
    pending.push(m);
    return;
  }
  if (m.t === 'job') handle(m);
  else chain = chain.then(() => handle(m));
});

for (const r of init.rollups) vms.set(r.namespace, await createVm(r, init.vm));
ready = true;
for (const m of pending.splice(0)) {
  if (m.t === 'job') handle(m);
  else chain = chain.then(() => handle(m));
}
port.postMessage({ t: 'ready' });
