/**
 * Commons for decoding transactions and building block headers without ethereumjs' per-object parameter
 * rebuild (ADR 0180 for transactions, ADR 0342 for the executor's per-height block header).
 *
 * Every transaction constructor of @ethereumjs/tx does `common.copy()` and then
 * `updateParams(paramsTx)` on the copy: the latter deep-copies every EIP's transaction parameters
 * through JSON and rebuilds the whole parameter cache, ~150 µs of CPU per decoded transaction on this
 * host (a third of an ERC-20 transfer's decode + recovery, paid at admission, mempool classification,
 * each executor worker and the Ethereum RPC's block index). Every block header constructor of
 * @ethereumjs/block does the same with `paramsBlock` (each executor VM builds one header per height).
 * The result is the same for every copy: the parameter set merged over the Common's parameters, its
 * values winning.
 *
 * `presetCommon(common, params)` returns a copy of `common` with `params` merged once; its `copy()`
 * hands out shallow copies (as Common's own `copy` does: own fields, a fresh event emitter) whose
 * `updateParams(params)` is a no-op, since those parameters are already in the shared cache. Any other
 * `updateParams` argument takes Common's path. A copy's later `setHardfork` rebuilds its own caches as
 * before (it assigns new objects, the shared ones are never written in place). `txCommon` and
 * `blockCommon` are the two presets. test/unit/exec/tx-common.test.ts checks that decoded transactions
 * see the same parameter cache, intrinsic gas, hashes and senders as with the plain Common, and
 * test/unit/exec/block-common.test.ts that headers come out byte-identical.
 */
import { paramsBlock } from '@ethereumjs/block';
import { Common } from '@ethereumjs/common';
import { paramsTx } from '@ethereumjs/tx';

type Params = Parameters<Common['updateParams']>[0];

/** Per parameter set: the preset Common of each Common (built on first use). */
const presets = new WeakMap<Params, WeakMap<Common, Common>>();

/** `common` with `params` merged once; its copies skip `updateParams(params)` (one per Common and set). */
export function presetCommon(common: Common, params: Params): Common {
  let byCommon = presets.get(params);
  if (byCommon === undefined) {
    byCommon = new WeakMap();
    presets.set(params, byCommon);
  }
  let fast = byCommon.get(common);
  if (fast !== undefined) return fast;
  fast = common.copy();
  fast.updateParams(params);
  const base = fast;
  const skip = function (this: Common, p: Params): void {
    if (p !== params) Common.prototype.updateParams.call(this, p);
  };
  base.copy = function (this: Common): Common {
    const c = Object.assign(Object.create(Object.getPrototypeOf(this)) as Common, this);
    c.events = new (this.events.constructor as new () => Common['events'])();
    c.updateParams = skip;
    return c;
  };
  byCommon.set(common, base);
  return base;
}

/** The decode-only Common for `common` (one per Common, built on first use). */
export function txCommon(common: Common): Common {
  return presetCommon(common, paramsTx);
}

/** The Common to build `common`'s block headers with (one per Common, built on first use). */
export function blockCommon(common: Common): Common {
  return presetCommon(common, paramsBlock);
}
