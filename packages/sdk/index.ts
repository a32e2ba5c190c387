/**
 * `@ordo/sdk`, the package a rollup team installs: the verifying client (`OrdoRollupClient`), the
 * verification functions it uses, its errors, and the few helpers a rollup needs (hex, hashes).
 * Inside this repository the package resolves to this TypeScript file (npm workspace, run by Node's
 * type stripping); `npm run build:sdk` compiles it and its imports to JavaScript + declarations in
 * packages/sdk/dist, which is what `npm pack` ships (packages/sdk/build.ts). The source stays in
 * src/rollup-adapter; nothing is copied here.
 */

export type { PreconfBody, Preconfirmation, PreconfLeg } from '../../src/codec/bundle.ts';
export { preconfSignBytes } from '../../src/codec/bundle.ts';
export { txHash } from '../../src/codec/hashing.ts';
export { type PreconfVerdict, verifyPreconfirmation } from '../../src/codec/preconf.ts';
export { bytesEqual, fromHex, sha256, toHex } from '../../src/crypto/hash.ts';
export type { TxStatus } from '../../src/mempool/types.ts';
export type { SubmitResult } from '../../src/rollup-adapter/in-process.ts';
export * from '../../src/rollup-adapter/sdk/index.ts';
export type { CommitmentState, ExecutionResult, NamespaceBlock } from '../../src/rollup-adapter/types.ts';
export type { BlockHeader, Namespace, Validator } from '../../src/types.ts';
