/** Client SDK entry point: the verified-stream client and the verification functions it uses. */
export { AdapterError, VerificationError } from '../errors.ts';
export {
  receiptsRootOf,
  verifyAuctionPart,
  verifyCertifiedResults,
  verifyCommitCertificate,
  verifyNamespaceBlock,
} from '../verify.ts';
export { OrdoRollupClient, type OrdoRollupClientOptions, type VerifiedBlock } from './client.ts';
