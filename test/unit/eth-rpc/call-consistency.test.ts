import { encodeFunctionData, parseEther } from 'viem';
import { describe, expect, it } from 'vitest';
import { EvmStateReader } from '../../../src/eth-rpc/state.ts';
import { abi, asBig, balanceKey, common, hex, holderHex, stripped, token, word, world } from './evm-world.ts';

const req = {
  to: token,
  data: hex(encodeFunctionData({ abi, functionName: 'balanceOf', args: [holderHex] })),
};

describe('main-thread eth_call over the live state', () => {
  it('runs each simulation without yielding to a macrotask, so a commit lands only between calls', async () => {
    const state = await world();
    let height = 5;
    const reader = new EvmStateReader((k) => state.get(k), common, undefined, { version: () => height });
    const commit = (v: bigint) => {
      state.set(balanceKey, stripped(word(v)));
      height++;
    };
    // Commits are macrotasks here as in the node (an I/O callback); 40 calls are queued at once and a
    // commit is scheduled at every turn of the event loop while they run.
    let turns = 0;
    const tick = (): void => {
      if (turns++ >= 200) return;
      commit(BigInt(turns));
      setImmediate(tick);
    };
    setImmediate(tick);
    const seen: bigint[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const r = await reader.simulate(req, [], 1_000_000n, 12, 2000);
        seen.push(asBig(r.returnValue));
      }),
    );
    // every answer is the genesis balance: the 40 simulations all ran before the first commit
    expect(seen).toEqual(Array(40).fill(parseEther('1000')));
    expect(reader.reruns).toBe(0);
    // and after commits, a new call sees the newest state
    await new Promise((r) => setTimeout(r, 5));
    const v = asBig((await reader.simulate(req, [], 1_000_000n, 12, 2000)).returnValue);
    expect(v).toBe(asBig(hex(Buffer.from(state.get(balanceKey)!, 'latin1').toString('hex'))));
  });

  it('runs a call again when a height is committed while it runs', async () => {
    const state = await world();
    let height = 5;
    let commitDuringRead = true;
    // A getter that lets a "commit" land in the middle of the first run (as if a read had waited for
    // I/O): the first time the balance slot is read, another height with a new balance is applied.
    const get = (k: string) => {
      if (commitDuringRead && k === balanceKey) {
        commitDuringRead = false;
        const v = state.get(k);
        state.set(balanceKey, stripped(word(7n)));
        height++;
        return v;
      }
      return state.get(k);
    };
    const reader = new EvmStateReader(get, common, undefined, { version: () => height });
    const r = await reader.simulate(req, [], 1_000_000n, 12, 2000);
    expect(reader.reruns).toBe(1);
    expect(asBig(r.returnValue)).toBe(7n); // the answer of height 6, not the one read at 5
    // without a version the reader cannot tell, and answers from the read it made
    commitDuringRead = true;
    state.set(balanceKey, stripped(word(parseEther('1000'))));
    const blind = new EvmStateReader(get, common);
    expect(asBig((await blind.simulate(req, [], 1_000_000n, 12, 2000)).returnValue)).toBe(parseEther('1000'));
    expect(blind.reruns).toBe(0);
  });
});
