/**
 * A per-EVM cache of ethereumjs' jump-destination analysis, for the Ethereum RPC's call VMs (`eth_call`,
 * `eth_estimateGas`) and, since ADR 0324, the executor's block execution (EvmVm). The interpreter analyses a contract's whole bytecode (valid JUMPDESTs, push
 * values, the opcode table entry of every byte) each time it runs code with a jump: for a small ERC-20
 * call that was the largest single cost. The analysis is a pure function of the code bytes and the
 * EVM's opcode table, so it is kept per EVM, keyed by the code array's identity (a caching
 * `ViewStateManager` hands the same array out for the same code hash) and dropped with it.
 *
 * The interpreter class is not exported by @ethereumjs/evm; its module is loaded from the package's
 * own directory (the same module instance the EVM uses) and its method wrapped once. EVMs not
 * registered here (an EvmVm created with `cacheCode: false`) go straight to the original method.
 */
import type { EVM } from '@ethereumjs/evm';

type Analysis = unknown;
interface InterpreterProto {
  _getValidJumpDestinations(this: { _evm: object }, code: Uint8Array): Analysis;
}

const perEvm = new WeakMap<object, WeakMap<Uint8Array, Analysis>>();
let patched: Promise<boolean> | undefined;

async function patch(): Promise<boolean> {
  try {
    const url = import.meta.resolve('@ethereumjs/evm').replace(/index\.js$/, 'interpreter.js');
    const mod = (await import(url)) as { Interpreter?: { prototype: InterpreterProto } };
    const proto = mod.Interpreter?.prototype;
    const original = proto?._getValidJumpDestinations;
    if (proto === undefined || typeof original !== 'function') return false;
    proto._getValidJumpDestinations = function (code) {
      const cache = perEvm.get(this._evm);
      if (cache === undefined) return original.call(this, code);
      let a = cache.get(code);
      if (a === undefined) {
        a = original.call(this, code);
        cache.set(code, a);
      }
      return a;
    };
    return true;
  } catch {
    return false; // a different package layout: calls run uncached, with the same results
  }
}

/** Cache jump analyses for this EVM's runs. Resolves to whether the cache is in place. */
export async function cacheJumpAnalysis(evm: EVM): Promise<boolean> {
  patched ??= patch();
  if (!(await patched)) return false;
  if (!perEvm.has(evm)) perEvm.set(evm, new WeakMap());
  return true;
}
