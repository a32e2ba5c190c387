/**
 * Loads the wire format from proto/ordo/v1/*.proto at start (protobufjs reflection, which compiles
 * encoders/decoders at run time). See docs/decisions/0003-proto-loaded-at-start.md for why the .proto
 * files are the only source of truth and no generated code is checked in.
 *
 * 64-bit integers decode as JS numbers (protobufjs' Long support is switched off); every conversion
 * into domain types checks that they are safe integers.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

export const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const FILES = ['tx.proto', 'block.proto', 'consensus.proto', 'auction.proto', 'sync.proto'].map(
  (f) => `ordo/v1/${f}`,
);

function load(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
  root.loadSync(FILES, { keepCase: false });
  root.resolveAll();
  return root;
}

export const root: protobuf.Root = load();

function t(name: string): protobuf.Type {
  return root.lookupType(`ordo.v1.${name}`);
}

export const pb = {
  TxEnvelope: t('TxEnvelope'),
  TxBatch: t('TxBatch'),
  Bundle: t('Bundle'),
  BundleBatch: t('BundleBatch'),
  BlockHeader: t('BlockHeader'),
  BundleSpan: t('BundleSpan'),
  Block: t('Block'),
  CommitCertificate: t('CommitCertificate'),
  CertifiedBlock: t('CertifiedBlock'),
  Vote: t('Vote'),
  Proposal: t('Proposal'),
  ConsensusMessage: t('ConsensusMessage'),
  DuplicateVoteEvidence: t('DuplicateVoteEvidence'),
  BidCommit: t('BidCommit'),
  BidReveal: t('BidReveal'),
  Deposit: t('Deposit'),
  Withdraw: t('Withdraw'),
  AuctionTx: t('AuctionTx'),
  SyncRequest: t('SyncRequest'),
  SyncResponse: t('SyncResponse'),
} as const;
