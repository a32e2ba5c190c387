/**
 * The shapes of decoded ordo.v1 protobuf messages (proto/ordo/v1/*.proto), as protobufjs hands them to
 * the codec: camelCase fields, `bytes` as Uint8Array, 64-bit integers as numbers (proto.ts switches
 * Long off), message fields absent or null when not set, repeated fields possibly absent. Nothing here
 * is trusted: every scalar is re-checked by codec.ts (`u32`, `u64`, `fixedBytes`...) on its way into a
 * domain type (src/types.ts), which is why scalar fields are typed `unknown` where a malicious peer can
 * put anything a valid encoding allows. Keep in step with the .proto files.
 */

/** A field of a decoded message as the codec reads it: a wire value not yet checked. */
type Unchecked = unknown;
/** A sub-message field: absent / null when the sender left it out. */
export type Sub<T> = T | null | undefined;
/** A repeated field: protobufjs gives an array, absent in hand-built objects. */
type Many<T> = T[] | undefined;

export interface WireTxEnvelope {
  namespace?: Unchecked;
  payload?: Unchecked;
}
export interface WireTxBatch {
  txs?: Many<WireTxEnvelope>;
}
export interface WireBundleLeg {
  namespace?: Unchecked;
  txs?: Many<Unchecked>;
  revertingTxHashes?: Many<Unchecked>;
}
export interface WireBundle {
  legs?: Many<WireBundleLeg>;
  atomicity?: Unchecked;
  replacementUuid?: Unchecked;
  minHeight?: Unchecked;
  maxHeight?: Unchecked;
  signer?: Unchecked;
  signature?: Unchecked;
}
export interface WireBlockHeader {
  chainId?: Unchecked;
  height?: Unchecked;
  round?: Unchecked;
  timeMs?: Unchecked;
  parentHash?: Unchecked;
  dataHash?: Unchecked;
  proposer?: Unchecked;
  txCount?: Unchecked;
  lastCommitHash?: Unchecked;
  resultsHash?: Unchecked;
  auctionHash?: Unchecked;
}
export interface WireBundleSpan {
  bundleHash?: Unchecked;
  namespace?: Unchecked;
  start?: Unchecked;
  count?: Unchecked;
  atomicity?: Unchecked;
  reverting?: Many<Unchecked>;
}
export interface WireBundleBatch {
  bundles?: Many<WireBundle>;
}
export interface WireBlock {
  header?: Sub<WireBlockHeader>;
  txs?: Many<WireTxEnvelope>;
  bundles?: Many<WireBundleSpan>;
}
export interface WireCommitSig {
  validatorIndex?: Unchecked;
  signature?: Unchecked;
}
export interface WireCommitCertificate {
  height?: Unchecked;
  round?: Unchecked;
  blockHash?: Unchecked;
  sigs?: Many<WireCommitSig>;
}
export interface WireCertifiedBlock {
  block?: Sub<WireBlock>;
  certificate?: Sub<WireCommitCertificate>;
}
export interface WireVote {
  /** VoteType: 1 prevote, 2 precommit. */
  type?: Unchecked;
  height?: Unchecked;
  round?: Unchecked;
  blockHash?: Unchecked;
  validatorIndex?: Unchecked;
  signature?: Unchecked;
}
export interface WireProposal {
  height?: Unchecked;
  round?: Unchecked;
  polRound?: Unchecked;
  block?: Sub<WireBlock>;
  proposerIndex?: Unchecked;
  signature?: Unchecked;
}
export interface WireCompactProposal {
  height?: Unchecked;
  round?: Unchecked;
  polRound?: Unchecked;
  header?: Sub<WireBlockHeader>;
  txHashes?: Many<Unchecked>;
  bundles?: Many<WireBundleSpan>;
  proposerIndex?: Unchecked;
  signature?: Unchecked;
}
export interface WireConsensusMessage {
  proposal?: Sub<WireProposal>;
  vote?: Sub<WireVote>;
  compactProposal?: Sub<WireCompactProposal>;
}
export interface WireDuplicateVoteEvidence {
  voteA?: Sub<WireVote>;
  voteB?: Sub<WireVote>;
}
export interface WireBidCommit {
  slot?: Unchecked;
  bidder?: Unchecked;
  commitment?: Unchecked;
  signature?: Unchecked;
}
export interface WireBidReveal {
  slot?: Unchecked;
  bidder?: Unchecked;
  amount?: Unchecked;
  bundle?: Sub<WireBundle>;
  salt?: Unchecked;
  signature?: Unchecked;
}
export interface WireAccountMove {
  account?: Unchecked;
  amount?: Unchecked;
  nonce?: Unchecked;
  signature?: Unchecked;
}
export interface WireAuctionTx {
  commit?: Sub<WireBidCommit>;
  reveal?: Sub<WireBidReveal>;
  deposit?: Sub<WireAccountMove>;
  withdraw?: Sub<WireAccountMove>;
}
export interface WireStatusResponse {
  chainId?: Unchecked;
  height?: Unchecked;
  headHash?: Unchecked;
  baseHeight?: Unchecked;
}
export interface WireBlocksRequest {
  fromHeight?: Unchecked;
  toHeight?: Unchecked;
}
export interface WireSyncRequest {
  status?: Sub<Record<string, never>>;
  blocks?: Sub<WireBlocksRequest>;
  txs?: Sub<{ hashes?: Many<Unchecked> }>;
}
export interface WireSyncResponse {
  status?: Sub<WireStatusResponse>;
  blocks?: Sub<{ blocks?: Many<WireCertifiedBlock> }>;
  txs?: Sub<{ txs?: Many<WireTxEnvelope> }>;
  error?: Unchecked;
}
