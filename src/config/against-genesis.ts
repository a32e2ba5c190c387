/**
 * Checks of a node config against the genesis it runs: settings that are each valid alone but together
 * would leave this node unable to do its part. Today one: a validator whose block limits are below the
 * auction's top budget could not build (or accept) a block holding every winner of a slot, and every
 * proposer must place all of them (ADR 0295). Run by `OrdoNode.load` and `ordo config validate`.
 */

import type { NodeConfig } from './config.ts';
import { auctionSetupOf } from './genesis.ts';
import type { Genesis } from './genesis-types.ts';
import { ConfigError } from './schema-error.ts';

/** Bytes of consensus.maxBlockBytes a proposer keeps for the header and framing (the engine's margin). */
const BLOCK_FRAMING_BYTES = 2048;

/** Throws CONFIG_INVALID naming both settings when `config` cannot carry what `genesis` demands. */
export function checkConfigAgainstGenesis(config: NodeConfig, genesis: Genesis, file = 'config'): void {
  const setup = auctionSetupOf(genesis);
  if (setup === undefined) return;
  const problems: string[] = [];
  const room = config.consensus.maxBlockBytes - BLOCK_FRAMING_BYTES;
  if (room < setup.params.maxTopBytes) {
    problems.push(
      `consensus.maxBlockBytes: ${config.consensus.maxBlockBytes} leaves ${room} bytes for a block's transactions, less than the ${setup.params.maxTopBytes} the genesis auction's winners may take (auction.maxTopBytes); set it to at least ${setup.params.maxTopBytes + BLOCK_FRAMING_BYTES}`,
    );
  }
  if (config.consensus.maxBlockTxs < setup.params.maxTopTxs) {
    problems.push(
      `consensus.maxBlockTxs: ${config.consensus.maxBlockTxs} is less than the ${setup.params.maxTopTxs} transactions the genesis auction's winners may take (auction.maxTopTxs)`,
    );
  }
  if (problems.length > 0) {
    throw new ConfigError('CONFIG_INVALID', `${file} does not fit the genesis:\n  ${problems.join('\n  ')}`, {
      problems,
    });
  }
}
