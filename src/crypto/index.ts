/**
 * The crypto component's public surface: sha256 and byte helpers (hash.ts), ed25519 signing with the
 * one strict verification rule of every node (ed25519.ts), and the namespaced Merkle tree whose
 * proofs show a rollup that its slice of a block is complete (nmt.ts).
 */
export * from './ed25519.ts';
export * from './hash.ts';
export * from './nmt.ts';
