/**
 * testnet/netns.ts without namespaces: the partition rules it installs in a node's namespace, and the
 * probe's answer shape (a reason whenever it says no). Runs everywhere, root or not.
 */
import { describe, expect, it } from 'vitest';
import { partitionRules, probeNetns } from '../../../testnet/netns.ts';

describe('netns partition rules', () => {
  it('flush the chain, then drop both directions per blocked address', () => {
    expect(partitionRules(['10.213.5.11', '10.213.5.12'])).toEqual([
      ['-F', 'ordo-partition'],
      ['-A', 'ordo-partition', '-s', '10.213.5.11', '-j', 'DROP'],
      ['-A', 'ordo-partition', '-d', '10.213.5.11', '-j', 'DROP'],
      ['-A', 'ordo-partition', '-s', '10.213.5.12', '-j', 'DROP'],
      ['-A', 'ordo-partition', '-d', '10.213.5.12', '-j', 'DROP'],
    ]);
  });

  it('heal is a flush only', () => {
    expect(partitionRules([])).toEqual([['-F', 'ordo-partition']]);
  });

  it('the probe says why when namespaces are not available', () => {
    const p = probeNetns();
    if (!p.ok) expect(p.reason).toMatch(/\w/);
    else expect(typeof p.tc).toBe('boolean');
  });
});
