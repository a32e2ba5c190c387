/**
 * The engine's operator metrics, on four validators over the in-memory network with one of them never
 * started: per-validator signing (the absent one is missing from every certificate, the others are in
 * every one), missed proposals (the absent validator's turns as round-0 proposer never commit), and the
 * round gauge. Counted from the certificates of persisted blocks; no timing is asserted.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsensusEngine, type Engine } from '../../../src/consensus/engine.ts';
import { ed25519Signer } from '../../../src/consensus/signing.ts';
import { MemoryHub } from '../../../src/consensus/testing/memory-network.ts';
import { MemoryBlockStore } from '../../../src/consensus/testing/memory-store.ts';
import { simpleSource } from '../../../src/consensus/testing/simple-source.ts';
import { makeValidatorSet, proposerIndex } from '../../../src/consensus/validators.ts';
import { generateKeyPair } from '../../../src/crypto/ed25519.ts';
import type { CommitCertificate } from '../../../src/types.ts';

const engines: Engine[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

describe('consensus metrics', () => {
  it('record who signed each certificate, whose proposer rounds did not commit, and the round', async () => {
    const keys = [0, 1, 2, 3].map(() => generateKeyPair());
    const set = makeValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, votingPower: 1 })));
    const absent = 3;
    const hub = new MemoryHub();
    const registry = new Registry();
    const certs: CommitCertificate[] = [];
    for (let i = 0; i < 4; i++) {
      if (i === absent) continue;
      const net = hub.create(`v${i}`);
      await net.start();
      const dir = mkdtempSync(join(tmpdir(), 'ordo-cs-metrics-'));
      dirs.push(dir);
      const e = await createConsensusEngine({
        chainId: 'ordo-metrics',
        validators: set,
        signer: ed25519Signer(keys[i]!.seed),
        network: net,
        store: new MemoryBlockStore(),
        source: simpleSource(() => [], { pendingTxs: () => 0 }),
        genesisTimeMs: 0,
        dataDir: dir,
        timeouts: { proposeMs: 200, prevoteMs: 100, precommitMs: 100, deltaMs: 50, emptyBlockWaitMs: 10 },
        ...(i === 0 ? { registry } : {}),
      });
      engines.push(e);
      if (i === 0) e.onCommit((_b, cert) => void certs.push(cert));
    }
    await Promise.all(engines.map((e) => e.start()));
    // Run until the absent validator has had a round-0 turn (its height commits in a later round).
    const deadline = Date.now() + 60_000;
    while (
      !certs.some((c) => proposerIndex(set, c.height, 0) === absent && c.round > 0) ||
      certs.length < 6
    ) {
      if (Date.now() > deadline) throw new Error(`only ${certs.length} commits within 60 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await engines[0]!.stop();
    const text = await registry.metrics();
    const n = sample(text, 'ordo_consensus_commits_total');
    expect(n).toBe(certs.length);
    expect(sample(text, 'ordo_consensus_validator_missed_total', `{validator="${absent}"}`)).toBe(n);
    expect(sample(text, 'ordo_consensus_validator_signed_total', `{validator="${absent}"}`)).toBe(0);
    // Three of four equal powers: every certificate needs all three present validators.
    for (const v of [0, 1, 2]) {
      expect(sample(text, 'ordo_consensus_validator_signed_total', `{validator="${v}"}`)).toBe(n);
      expect(sample(text, 'ordo_consensus_validator_missed_total', `{validator="${v}"}`)).toBe(0);
    }
    // Missed proposals: the proposers of rounds 0..r-1 of every height that committed in round r.
    const expected = [0, 0, 0, 0];
    for (const c of certs) for (let r = 0; r < c.round; r++) expected[proposerIndex(set, c.height, r)]!++;
    expect(expected[absent]).toBeGreaterThan(0);
    for (const v of [0, 1, 2, 3]) {
      expect(sample(text, 'ordo_consensus_proposals_missed_total', `{validator="${v}"}`)).toBe(expected[v]);
    }
    expect(sample(text, 'ordo_consensus_round')).toBeGreaterThanOrEqual(0);
    // The chain height is the store's gauge, not the engine's (its per-stage histogram is another name).
    expect(text).not.toMatch(/^ordo_consensus_height[ {]/m);
  });
});
