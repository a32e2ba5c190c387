/**
 * Namespaced Merkle tree (NMT), as in Celestia: every node carries the minimum and maximum namespace
 * below it, so a proof for one namespace shows both that the given leaves are in the tree and that no
 * other leaf of that namespace exists (siblings on the left end below it, on the right start above it).
 *
 * Leaves are (namespace, sha256 of the transaction) and must be sorted by namespace. Hashes:
 *   leaf  = sha256(0x00 || ns u32 BE || txHash)
 *   inner = sha256(0x01 || L.min || L.max || L.hash || R.min || R.max || R.hash)
 * The tree splits at the largest power of two below the leaf count (RFC 6962 shape). The root of an
 * empty tree is sha256("") with namespace range [0, 0]. The root hash committed in the header is
 * sha256(min || max || hash) of the root node, so the range is committed too.
 */
import { createHash } from 'node:crypto';

export interface NmtLeaf {
  namespace: number;
  hash: Uint8Array;
}

export interface NmtNode {
  min: number;
  max: number;
  hash: Uint8Array;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

export function leafNode(leaf: NmtLeaf): NmtNode {
  const h = createHash('sha256')
    .update(Buffer.from([0]))
    .update(u32(leaf.namespace))
    .update(leaf.hash)
    .digest();
  return { min: leaf.namespace, max: leaf.namespace, hash: new Uint8Array(h) };
}

export function innerNode(l: NmtNode, r: NmtNode): NmtNode {
  const h = createHash('sha256')
    .update(Buffer.from([1]))
    .update(u32(l.min))
    .update(u32(l.max))
    .update(l.hash)
    .update(u32(r.min))
    .update(u32(r.max))
    .update(r.hash)
    .digest();
  return { min: Math.min(l.min, r.min), max: Math.max(l.max, r.max), hash: new Uint8Array(h) };
}

export const EMPTY_NODE: NmtNode = {
  min: 0,
  max: 0,
  hash: new Uint8Array(createHash('sha256').digest()),
};

/** Largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function nmtRootNode(leaves: NmtLeaf[]): NmtNode {
  if (leaves.length === 0) return EMPTY_NODE;
  for (let i = 1; i < leaves.length; i++) {
    if (leaves[i]!.namespace < leaves[i - 1]!.namespace)
      throw new Error('NMT leaves must be sorted by namespace');
  }
  const build = (lo: number, hi: number): NmtNode => {
    if (hi - lo === 1) return leafNode(leaves[lo]!);
    const k = splitPoint(hi - lo);
    return innerNode(build(lo, lo + k), build(lo + k, hi));
  };
  return build(0, leaves.length);
}

/** The 32-byte commitment to a root node (its hash and namespace range). */
export function commitNode(n: NmtNode): Uint8Array {
  return new Uint8Array(createHash('sha256').update(u32(n.min)).update(u32(n.max)).update(n.hash).digest());
}

export function nmtRoot(leaves: NmtLeaf[]): Uint8Array {
  return commitNode(nmtRootNode(leaves));
}
