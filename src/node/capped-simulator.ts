/**
 * The bundle simulation the node offers RPC clients (`ordo_callBundle`, `eth_callBundle`): the
 * executor's, refusing up front a bundle whose EVM transactions declare more gas than the node simulates
 * for a proposer's block (`bundles.maxSimulationGasPerBlock`, ADR 0297). A simulation runs on the main
 * thread and cannot be cut short; without the cap one request of sixteen 30 M-gas EVM legs held the node
 * (and its consensus) for as long as ethereumjs took to run 480 M gas. Such a bundle would be refused by
 * the pool anyway, so nothing a client could submit becomes unsimulable.
 */
import { bundleEvmGas } from '../codec/index.ts';
import { OrdoError } from '../errors.ts';
import type { Bundle } from '../types.ts';

export function cappedSimulate<O, R>(
  simulate: (bundle: Bundle, opts?: O) => Promise<R>,
  maxGas: number,
  isEvm: (namespace: number) => boolean,
): (bundle: Bundle, opts?: O) => Promise<R> {
  return (bundle, opts) => {
    const gas = bundleEvmGas(bundle.legs, isEvm);
    if (gas > maxGas) {
      return Promise.reject(
        new OrdoError(
          'EXEC_SIM_TOO_LARGE',
          `the bundle's EVM transactions declare ${gas} gas; this node simulates at most ${maxGas} (bundles.maxSimulationGasPerBlock)`,
          { gas, limit: maxGas },
        ),
      );
    }
    return simulate(bundle, opts);
  };
}
