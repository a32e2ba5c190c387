/**
 * Bundle simulation (issue #22 rule 4, `ordo_callBundle`): run a bundle's executed legs against the
 * latest executed state, per leg in order, without persisting anything. Uses its own VM instances (a
 * VM is not re-entrant) and reads the committed state maps directly; a block commit in the middle of a
 * simulation is detected (heads moved) and the simulation is retried, then run on the executor's
 * queue, so every result is taken on one consistent height. The result shape is the bundle pool's
 * `SimulatedBundle` (src/mempool/bundle-types.ts), repeated here so the executor stays below the pool.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { txHash } from '../codec/index.ts';
import type { RollupConfig } from '../config/index.ts';
import { OrdoError } from '../errors.ts';
import type { Bundle } from '../types.ts';
import { type AnyVm, applyEffects, invalidOutcome, overlayGet, runTx } from './engine.ts';
import { chainRoot } from './state.ts';
import type { Bytes, Prepared, TxOutcome } from './types.ts';
import type { Val } from './view.ts';

export interface SimTx {
  hash: Uint8Array;
  status: 'success' | 'revert' | 'invalid';
  gasUsed: bigint;
  error?: string;
  returnData?: Uint8Array;
}

export interface SimResult {
  applies: boolean;
  reason?: string;
  height: number;
  legs: { namespace: number; executed: boolean; txs: SimTx[]; stateRoot?: Uint8Array }[];
}

export interface SimLane {
  rollup: RollupConfig;
  state: { state: Map<Bytes, Bytes>; height: number; root: Uint8Array };
}

/** The bundle limits of docs/wire.md (the pool refuses bigger bundles before they get here). */
const MAX_LEGS = 16;
const MAX_TXS = 100;

/** The rollup's own hash of a leg transaction: keccak256 for EVM rollups, Ordo's txHash otherwise. */
export function legTxHash(rollup: RollupConfig, payload: Uint8Array): Uint8Array {
  if (rollup.kind === 'evm') return keccak_256(payload);
  return txHash({ namespace: rollup.namespace, payload });
}

/** One attempt over the current committed state; undefined when a commit moved a head meanwhile. */
export async function simulateOnce(
  bundle: Bundle,
  lanes: ReadonlyMap<number, SimLane>,
  vmFor: (ns: number) => Promise<AnyVm>,
  timeMs: number,
  wantHeight: number | undefined,
  prepare?: (namespace: number, payload: Uint8Array) => Prepared<unknown>,
): Promise<SimResult | undefined> {
  const nTxs = bundle.legs.reduce((n, l) => n + l.txs.length, 0);
  if (bundle.legs.length > MAX_LEGS || nTxs > MAX_TXS) {
    throw new OrdoError(
      'EXEC_SIM_TOO_LARGE',
      `a bundle has at most ${MAX_LEGS} legs and ${MAX_TXS} transactions (got ${bundle.legs.length}, ${nTxs})`,
    );
  }
  const executed = bundle.legs.filter((l) => lanes.has(l.namespace));
  const heights = () => executed.map((l) => lanes.get(l.namespace)!.state.height);
  const before = heights();
  const height = before.length === 0 ? 0 : Math.min(...before);
  if (before.some((h) => h !== height)) return undefined;
  if (wantHeight !== undefined && wantHeight !== height) {
    throw new OrdoError(
      'EXEC_SIM_HEIGHT_UNAVAILABLE',
      `only the latest executed state (height ${height}) can be simulated, not ${wantHeight}`,
      { height, wanted: wantHeight },
    );
  }
  const out: SimResult = { applies: true, height, legs: [] };
  for (const leg of bundle.legs) {
    const lane = lanes.get(leg.namespace);
    if (lane === undefined) {
      out.legs.push({ namespace: leg.namespace, executed: false, txs: [] });
      continue;
    }
    const vm = await vmFor(leg.namespace);
    const overlay = new Map<Bytes, Val>();
    const get = overlayGet(overlay, lane.state.state);
    const rev = new Set(leg.revertingTxHashes.map((h) => Buffer.from(h).toString('hex')));
    const txs: SimTx[] = [];
    for (let i = 0; i < leg.txs.length; i++) {
      const payload = leg.txs[i]!;
      const hash = legTxHash(lane.rollup, payload);
      const p = prepare === undefined ? vm.prepare(payload) : prepare(leg.namespace, payload);
      let o: TxOutcome;
      if (!p.ok) o = invalidOutcome(p.error);
      else {
        const r = await runTx(vm, p.tx, get, { height: height + 1, timeMs });
        applyEffects(vm, overlay, get, r.effects.writes, r.effects.credits);
        o = r.outcome;
      }
      const t: SimTx = { hash, status: o.status === 'voided' ? 'invalid' : o.status, gasUsed: o.gasUsed };
      if (o.error !== undefined) t.error = o.error;
      if (o.returnData !== undefined) t.returnData = o.returnData;
      txs.push(t);
      if (
        bundle.atomicity === 'execution' &&
        out.applies &&
        t.status !== 'success' &&
        !rev.has(Buffer.from(hash).toString('hex'))
      ) {
        out.applies = false;
        out.reason = `namespace ${leg.namespace} tx ${i} (0x${Buffer.from(hash).toString('hex')}) would end ${t.status}${
          t.error === undefined ? '' : `: ${t.error}`
        }`;
      }
    }
    const diff: [Bytes, Val][] = [];
    for (const [k, v] of overlay) if ((lane.state.state.get(k) ?? null) !== v) diff.push([k, v]);
    out.legs.push({
      namespace: leg.namespace,
      executed: true,
      txs,
      stateRoot: chainRoot(leg.namespace, height + 1, lane.state.root, diff),
    });
  }
  const after = heights();
  if (after.some((h, i) => h !== before[i])) return undefined;
  return out;
}
