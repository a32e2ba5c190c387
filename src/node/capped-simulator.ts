/**
 * The bundle simulation the node offers RPC clients (`ordo_callBundle`, `eth_callBundle`): the
 * executor's, with its EVM legs on the call workers (ADR 0305, src/eth-rpc/bundle-sim.ts), behind two
 * gas gates (ADR 0297). A simulation the main thread runs (no worker ready, `rpc.ethCallWorkers: 0`)
 * cannot be cut short, and one on a worker occupies it, so what a client may ask for is bounded before
 * anything runs:
 * - one bundle whose EVM transactions declare more gas than the node simulates for a proposer's block
 *   (`bundles.maxSimulationGasPerBlock`) is refused (`EXEC_SIM_TOO_LARGE`): the pool refuses it too;
 * - all clients together get at most `rpc.bundleSimulationGasPerSec` of declared EVM gas a second, from
 *   a bucket that holds one maximal bundle: past it the request is refused as retryable
 *   (`EXEC_SIM_BUSY`, with the wait in `retryAfterMs`), so a stream of heavy requests cannot keep the
 *   node's event loop, and with it its consensus, busy.
 * Bundles without EVM legs take nothing from the bucket (transfer legs run in microseconds).
 */
import { bundleEvmGas } from '../codec/index.ts';
import { OrdoError } from '../errors.ts';
import type { Bundle } from '../types.ts';

export interface SimulationGates {
  /** Gas one bundle may declare (`bundles.maxSimulationGasPerBlock`). */
  maxGas: number;
  /** Gas all requests together may declare per second (`rpc.bundleSimulationGasPerSec`); 0 = no rate bound. */
  gasPerSec: number;
  isEvm(namespace: number): boolean;
  now?: () => number;
}

export function cappedSimulate<O, R>(
  simulate: (bundle: Bundle, opts?: O) => Promise<R>,
  gates: SimulationGates,
): (bundle: Bundle, opts?: O) => Promise<R> {
  const now = gates.now ?? (() => performance.now());
  let tokens = gates.maxGas;
  let at = now();
  return (bundle, opts) => {
    const gas = bundleEvmGas(bundle.legs, gates.isEvm);
    if (gas > gates.maxGas) {
      return Promise.reject(
        new OrdoError(
          'EXEC_SIM_TOO_LARGE',
          `the bundle's EVM transactions declare ${gas} gas; this node simulates at most ${gates.maxGas} (bundles.maxSimulationGasPerBlock)`,
          { gas, limit: gates.maxGas },
        ),
      );
    }
    if (gates.gasPerSec > 0 && gas > 0) {
      const t = now();
      tokens = Math.min(gates.maxGas, tokens + ((t - at) / 1000) * gates.gasPerSec);
      at = t;
      if (tokens < gas) {
        const retryAfterMs = Math.ceil(((gas - tokens) / gates.gasPerSec) * 1000);
        return Promise.reject(
          new OrdoError(
            'EXEC_SIM_BUSY',
            `this node simulates at most ${gates.gasPerSec} gas of bundles a second for RPC clients (rpc.bundleSimulationGasPerSec); this bundle's ${gas} fits in ${retryAfterMs} ms`,
            { gas, gasPerSec: gates.gasPerSec, retryAfterMs },
          ),
        );
      }
      tokens -= gas;
    }
    return simulate(bundle, opts);
  };
}
