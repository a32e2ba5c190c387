import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../src/crypto/hash.ts';
import {
  type NmtLeaf,
  NmtTree,
  nmtRoot,
  proveNamespace,
  verifyNamespaceProof,
} from '../../../src/crypto/nmt.ts';

function leavesOf(namespaces: number[]): NmtLeaf[] {
  return [...namespaces]
    .sort((a, b) => a - b)
    .map((namespace, i) => ({ namespace, hash: sha256(new Uint8Array([i, namespace & 0xff, 7])) }));
}

function hashesOf(leaves: NmtLeaf[], ns: number): Uint8Array[] {
  return leaves.filter((l) => l.namespace === ns).map((l) => l.hash);
}

describe('NMT namespace proofs', () => {
  it('the tree root equals nmtRoot (header dataHash is unchanged)', () => {
    for (const n of [0, 1, 2, 3, 5, 8, 13]) {
      const leaves = leavesOf(Array.from({ length: n }, (_, i) => 1 + (i % 4)));
      expect(new NmtTree(leaves).commitment()).toEqual(nmtRoot(leaves));
    }
  });

  it('proves presence and absence for every namespace of random trees', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 40 }), (nss) => {
        const leaves = leavesOf(nss);
        const tree = new NmtTree(leaves);
        const root = tree.commitment();
        for (let ns = 1; ns <= 7; ns++) {
          const proof = tree.prove(ns);
          const r = verifyNamespaceProof(root, leaves.length, ns, hashesOf(leaves, ns), proof);
          expect(r).toEqual({ ok: true });
        }
      }),
      { numRuns: 150 },
    );
  });

  it('rejects a slice with a leaf removed, added, or reordered', () => {
    const leaves = leavesOf([1, 1, 2, 2, 2, 3, 5, 5, 9]);
    const root = nmtRoot(leaves);
    const proof = proveNamespace(leaves, 2);
    const good = hashesOf(leaves, 2);
    expect(verifyNamespaceProof(root, leaves.length, 2, good, proof).ok).toBe(true);
    // removed (both with the honest proof and with a proof whose range shrank)
    expect(verifyNamespaceProof(root, leaves.length, 2, good.slice(1), proof).ok).toBe(false);
    expect(verifyNamespaceProof(root, leaves.length, 2, good.slice(1), { ...proof, start: 3 }).ok).toBe(
      false,
    );
    expect(verifyNamespaceProof(root, leaves.length, 2, good.slice(0, 2), { ...proof, end: 4 }).ok).toBe(
      false,
    );
    // added
    const extra = [...good, sha256(new Uint8Array([1]))];
    expect(verifyNamespaceProof(root, leaves.length, 2, extra, { ...proof, end: proof.end + 1 }).ok).toBe(
      false,
    );
    // reordered
    const swapped = [good[1]!, good[0]!, good[2]!];
    expect(verifyNamespaceProof(root, leaves.length, 2, swapped, proof).ok).toBe(false);
  });

  it('rejects an absence claim for a namespace that has leaves', () => {
    const leaves = leavesOf([1, 2, 2, 3]);
    const root = nmtRoot(leaves);
    // Claim ns 2 is absent, using an honest-looking proof of the tree split around it.
    const fake = { start: 1, end: 1, nodes: new NmtTree(leaves).prove(2).nodes };
    expect(verifyNamespaceProof(root, leaves.length, 2, [], fake).ok).toBe(false);
    // A proof of ns 1 reused for ns 2 fails too.
    const p1 = proveNamespace(leaves, 1);
    expect(verifyNamespaceProof(root, leaves.length, 2, hashesOf(leaves, 1), p1).ok).toBe(false);
  });

  it('rejects a wrong leaf count, wrong root and tampered node ranges', () => {
    const leaves = leavesOf([1, 2, 3, 4, 5]);
    const root = nmtRoot(leaves);
    const proof = proveNamespace(leaves, 3);
    const h = hashesOf(leaves, 3);
    // The leaf count must come from the signed header (txCount); a range past it is refused.
    expect(verifyNamespaceProof(root, 2, 3, h, proof).ok).toBe(false);
    expect(verifyNamespaceProof(sha256(root), 5, 3, h, proof).ok).toBe(false);
    const nodes = proof.nodes.map((n) => ({ ...n }));
    nodes[0]!.max = 1;
    expect(verifyNamespaceProof(root, 5, 3, h, { ...proof, nodes }).ok).toBe(false);
    expect(verifyNamespaceProof(root, 5, 3, h, { ...proof, nodes: proof.nodes.slice(1) }).ok).toBe(false);
  });

  it('handles the empty block', () => {
    const root = nmtRoot([]);
    const proof = proveNamespace([], 4);
    expect(proof).toEqual({ start: 0, end: 0, nodes: [] });
    expect(verifyNamespaceProof(root, 0, 4, [], proof).ok).toBe(true);
  });
});
