export { SIM_TIMEOUTS as SIM_TIMEOUTS_FOR_TESTS } from '../../../src/consensus/sim/simulation.ts';
export { ConsensusCore, type CoreAction, hashOfBlock } from '../../../src/consensus/state-machine.ts';
