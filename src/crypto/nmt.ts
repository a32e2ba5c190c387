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
import { createHash, hash as oneShotHash } from 'node:crypto';

export interface NmtLeaf {
  namespace: number;
  hash: Uint8Array;
}

export interface NmtNode {
  min: number;
  max: number;
  hash: Uint8Array;
}

// Node preimages are assembled in one scratch buffer and hashed with one native one-shot call: a
// streaming createHash with 3-7 updates per node cost ~3x more (two hashes per transaction per block).
const scratch = Buffer.allocUnsafe(1 + 2 * (8 + 32));

function digest(len: number): Uint8Array {
  const d = oneShotHash('sha256', scratch.subarray(0, len), 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function put32(hash: Uint8Array, at: number): void {
  scratch.set(hash, at);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

/** The same preimage hashed in parts: only for hashes that are not 32 bytes (malformed proof input). */
function slowHash(parts: (Uint8Array | number)[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'number' ? u32(p) : p);
  return new Uint8Array(h.digest());
}

export function leafNode(leaf: NmtLeaf): NmtNode {
  if (leaf.hash.byteLength !== 32) {
    const hash = slowHash([new Uint8Array([0]), leaf.namespace, leaf.hash]);
    return { min: leaf.namespace, max: leaf.namespace, hash };
  }
  scratch[0] = 0;
  scratch.writeUInt32BE(leaf.namespace, 1);
  put32(leaf.hash, 5);
  return { min: leaf.namespace, max: leaf.namespace, hash: digest(37) };
}

export function innerNode(l: NmtNode, r: NmtNode): NmtNode {
  if (l.hash.byteLength !== 32 || r.hash.byteLength !== 32) {
    const hash = slowHash([new Uint8Array([1]), l.min, l.max, l.hash, r.min, r.max, r.hash]);
    return { min: Math.min(l.min, r.min), max: Math.max(l.max, r.max), hash };
  }
  scratch[0] = 1;
  scratch.writeUInt32BE(l.min, 1);
  scratch.writeUInt32BE(l.max, 5);
  put32(l.hash, 9);
  scratch.writeUInt32BE(r.min, 41);
  scratch.writeUInt32BE(r.max, 45);
  put32(r.hash, 49);
  return { min: Math.min(l.min, r.min), max: Math.max(l.max, r.max), hash: digest(81) };
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
  if (n.hash.byteLength !== 32) return slowHash([n.min, n.max, n.hash]);
  scratch.writeUInt32BE(n.min, 0);
  scratch.writeUInt32BE(n.max, 4);
  put32(n.hash, 8);
  return digest(40);
}

export function nmtRoot(leaves: NmtLeaf[]): Uint8Array {
  return commitNode(nmtRootNode(leaves));
}

// ---------------------------------------------------------------- namespace range proofs
//
// A proof for namespace `ns` names the half-open leaf range [start, end) that holds ns's leaves (empty,
// start = end = the insertion point, when ns has none) and lists, left to right, the roots of the
// maximal subtrees outside that range. The verifier knows the total leaf count from the signed header
// (txCount), so the tree shape is fixed; it rebuilds the root from the given leaves and those nodes and
// checks that every node left of the range ends below ns and every node right of it starts above ns.
// Because inner hashes cover the children's namespace ranges, a node cannot lie about its range.

export interface NamespaceProof {
  /** First leaf index of the namespace (insertion point when absent). */
  start: number;
  /** One past the last leaf index of the namespace (= start when absent). */
  end: number;
  /** Roots of the subtrees outside [start, end), left to right. */
  nodes: NmtNode[];
}

export type NmtVerifyResult = { ok: true } | { ok: false; reason: string };

const MAX_NAMESPACE = 0xffff_ffff;

/**
 * All nodes of one tree, built once, so the proofs of many namespaces over the same block (one per
 * subscribed rollup) cost no rehashing.
 */
export class NmtTree {
  readonly leaves: readonly NmtLeaf[];
  readonly root: NmtNode;
  readonly #nodes = new Map<number, NmtNode>();

  constructor(leaves: NmtLeaf[]) {
    for (let i = 1; i < leaves.length; i++) {
      if (leaves[i]!.namespace < leaves[i - 1]!.namespace)
        throw new Error('NMT leaves must be sorted by namespace');
    }
    this.leaves = leaves;
    this.root = leaves.length === 0 ? EMPTY_NODE : this.#build(0, leaves.length);
  }

  #key(lo: number, hi: number): number {
    return lo * (this.leaves.length + 1) + hi;
  }

  #build(lo: number, hi: number): NmtNode {
    const n =
      hi - lo === 1
        ? leafNode(this.leaves[lo]!)
        : innerNode(this.#build(lo, lo + splitPoint(hi - lo)), this.#build(lo + splitPoint(hi - lo), hi));
    this.#nodes.set(this.#key(lo, hi), n);
    return n;
  }

  /** The root commitment (equals `nmtRoot(leaves)`). */
  commitment(): Uint8Array {
    return commitNode(this.root);
  }

  /** Leaf index range [start, end) of a namespace; empty at the insertion point when absent. */
  range(namespace: number): { start: number; end: number } {
    const lower = (pred: (ns: number) => boolean): number => {
      let lo = 0;
      let hi = this.leaves.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (pred(this.leaves[mid]!.namespace)) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    return { start: lower((ns) => ns >= namespace), end: lower((ns) => ns > namespace) };
  }

  /** Proof that leaves [start, end) are all of `namespace`'s leaves (or that it has none). */
  prove(namespace: number): NamespaceProof {
    const { start, end } = this.range(namespace);
    const nodes: NmtNode[] = [];
    const walk = (lo: number, hi: number): void => {
      if (hi <= start || lo >= end) {
        nodes.push(this.#nodes.get(this.#key(lo, hi))!);
        return;
      }
      if (lo >= start && hi <= end) return;
      const k = splitPoint(hi - lo);
      walk(lo, lo + k);
      walk(lo + k, hi);
    };
    if (this.leaves.length > 0) walk(0, this.leaves.length);
    return { start, end, nodes };
  }
}

/** Proof for one namespace over `leaves` (sorted by namespace). Builds the whole tree: for several
 * namespaces of one block, build an `NmtTree` once instead. */
export function proveNamespace(leaves: NmtLeaf[], namespace: number): NamespaceProof {
  return new NmtTree(leaves).prove(namespace);
}

/**
 * Check that `leafHashes` (the tx hashes of `namespace`, in order) are exactly that namespace's leaves
 * in the tree of `totalLeaves` leaves whose root commitment is `root`: included, in this order, and
 * nothing of the namespace left out. Never throws. `totalLeaves` must come from a signed source (the
 * header's txCount): the root alone does not fix the tree's size.
 */
export function verifyNamespaceProof(
  root: Uint8Array,
  totalLeaves: number,
  namespace: number,
  leafHashes: Uint8Array[],
  proof: NamespaceProof,
): NmtVerifyResult {
  const fail = (reason: string): NmtVerifyResult => ({ ok: false, reason });
  if (!Number.isInteger(namespace) || namespace < 1 || namespace > MAX_NAMESPACE)
    return fail('namespace out of range');
  if (!Number.isSafeInteger(totalLeaves) || totalLeaves < 0) return fail('invalid leaf count');
  const { start, end, nodes } = proof;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
    return fail('invalid proof range');
  if (end > totalLeaves) return fail(`proof range ends at ${end}, past the ${totalLeaves} leaves`);
  if (end - start !== leafHashes.length)
    return fail(`proof range holds ${end - start} leaves but ${leafHashes.length} were given`);
  if (nodes.length > 2 * 64) return fail('too many proof nodes');
  for (const h of leafHashes) if (h.byteLength !== 32) return fail('leaf hash must be 32 bytes');
  for (const n of nodes) {
    if (n.hash.byteLength !== 32) return fail('proof node hash must be 32 bytes');
    if (!Number.isInteger(n.min) || !Number.isInteger(n.max) || n.min < 0 || n.max > MAX_NAMESPACE)
      return fail('proof node namespace out of range');
    if (n.min > n.max) return fail('proof node has min namespace above max');
  }
  let computed: NmtNode;
  if (totalLeaves === 0) {
    if (nodes.length !== 0) return fail('an empty tree has no proof nodes');
    computed = EMPTY_NODE;
  } else {
    let next = 0;
    let bad: string | undefined;
    const build = (lo: number, hi: number): NmtNode => {
      if (hi <= start || lo >= end) {
        const n = nodes[next++];
        if (n === undefined) {
          bad ??= 'proof has too few nodes';
          return EMPTY_NODE;
        }
        if (hi <= start && n.max >= namespace)
          bad ??= `a subtree left of the range reaches namespace ${n.max} >= ${namespace}: leaves left out`;
        if (lo >= end && n.min <= namespace)
          bad ??= `a subtree right of the range starts at namespace ${n.min} <= ${namespace}: leaves left out`;
        return n;
      }
      if (hi - lo === 1) return leafNode({ namespace, hash: leafHashes[lo - start]! });
      const k = splitPoint(hi - lo);
      return innerNode(build(lo, lo + k), build(lo + k, hi));
    };
    computed = build(0, totalLeaves);
    if (bad !== undefined) return fail(bad);
    if (next !== nodes.length) return fail('proof has too many nodes');
  }
  const c = commitNode(computed);
  if (c.byteLength !== root.byteLength || !c.every((b, i) => b === root[i]))
    return fail('proof does not lead to the committed root');
  return { ok: true };
}
