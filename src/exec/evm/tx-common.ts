/**
 * A Common for decoding transactions without ethereumjs' per-transaction parameter rebuild (ADR 0180).
 *
 * Every transaction constructor of @ethereumjs/tx does `common.copy()` and then
 * `updateParams(paramsTx)` on the copy: the latter deep-copies every EIP's transaction parameters
 * through JSON and rebuilds the whole parameter cache, ~150 µs of CPU per decoded transaction on this
 * host (a third of an ERC-20 transfer's decode + recovery, paid at admission, mempool classification,
 * each executor worker and the Ethereum RPC's block index). The result is the same for every copy:
 * `paramsTx` merged over the Common's parameters, paramsTx's values winning.
 *
 * `txCommon(common)` returns a copy of `common` with `paramsTx` merged once; its `copy()` hands out
 * shallow copies (as Common's own `copy` does: own fields, a fresh event emitter) whose
 * `updateParams(paramsTx)` is a no-op, since those parameters are already in the shared cache. Any
 * other `updateParams` argument takes Common's path. A copy's later `setHardfork` rebuilds its own
 * caches as before (it assigns new objects, the shared ones are never written in place).
 * test/unit/exec/tx-common.test.ts checks that decoded transactions see the same parameter cache,
 * intrinsic gas, hashes and senders as with the plain Common.
 */
import { Common } from '@ethereumjs/common';
import { paramsTx } from '@ethereumjs/tx';

type Params = Parameters<Common['updateParams']>[0];

const fastCommons = new WeakMap<Common, Common>();

/** The decode-only Common for `common` (one per Common, built on first use). */
export function txCommon(common: Common): Common {
  let fast = fastCommons.get(common);
  if (fast !== undefined) return fast;
  fast = common.copy();
  fast.updateParams(paramsTx);
  const base = fast;
  const skip = function (this: Common, params: Params): void {
    if (params !== paramsTx) Common.prototype.updateParams.call(this, params);
  };
  base.copy = function (this: Common): Common {
    const c = Object.assign(Object.create(Object.getPrototypeOf(this)) as Common, this);
    c.events = new (this.events.constructor as new () => Common['events'])();
    c.updateParams = skip;
    return c;
  };
  fastCommons.set(common, base);
  return base;
}
