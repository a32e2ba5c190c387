/**
 * Client-side verification of a NamespaceBlock, so a rollup never trusts the node that served it:
 *   1. blockHash = sha256(headerBytes), and the decoded header says the same height;
 *   2. the commit certificate is for that height and hash, and carries valid precommit signatures
 *      (ed25519, canonical vote sign bytes) of more than 2/3 of the validator set's voting power;
 *   3. header.dataHash = sha256("ordo/data/v1" || txsRoot || u32 spanCount || spansRoot), the
 *      namespace proof rebuilds txsRoot from exactly these transactions (all of this rollup's
 *      transactions in the block, in this order), and the spans proof rebuilds spansRoot from exactly
 *      these bundle spans (all of this rollup's bundle boundaries);
 *   4. certified results, when present: they are of height - 2, and header.resultsHash commits to
 *      them (results tree root, leaf count, per-namespace proof);
 *   5. the auction part, when present: header.auctionHash (kind 1) commits to the rollup's outcome
 *      record, or to its top not being sold (outcome tree root, count, per-namespace proof).
 * The pre-confirmed `execution` of the block's own height is not covered by its header; the header two
 * heights later certifies it (compare `certifiedResults` then, e.g. with `receiptsRootOf`).
 * Byte layouts: docs/wire.md.
 */
import {
  auctionHashFromRoot,
  dataHashFromRoots,
  decodeRollupOutcome,
  LIMITS,
  pb,
  RESULTS_LAG,
  type RollupAuctionOutcome,
  receiptsRoot,
  resultLeafHash,
  resultsHashFromRoot,
  rollupOutcomeLeafHash,
  spanLeafHash,
  voteSignBytes,
  type WireBlockHeader,
} from '../codec/index.ts';
import {
  bytesEqual,
  concatBytes,
  sha256,
  toHex,
  verifyNamespaceProof,
  verifySignature,
} from '../crypto/index.ts';
import type { BlockHeader, CommitCertificate, Namespace, Validator } from '../types.ts';
import { VerificationError } from './errors.ts';
import type { AuctionPart, CertifiedResults, NamespaceBlock } from './types.ts';

/**
 * The commit rule: `cert` signs (chainId, precommit, height, round, blockHash); signatures sorted by
 * validator index without duplicates, every one valid, signed power > 2/3 of total. Throws
 * VerificationError. (Mirrors consensus' verifyCertificate; the node may swap to the shared one.)
 */
export function verifyCommitCertificate(
  cert: CommitCertificate,
  validators: Validator[],
  chainId: string,
  expectedBlockHash?: Uint8Array,
): void {
  if (expectedBlockHash !== undefined && !bytesEqual(cert.blockHash, expectedBlockHash)) {
    throw new VerificationError('CERT_INVALID', 'certificate signs a different block hash', {
      height: cert.height,
    });
  }
  if (cert.blockHash.byteLength !== 32)
    throw new VerificationError('CERT_INVALID', 'blockHash is not 32 bytes');
  let total = 0;
  for (const v of validators) total += v.votingPower;
  if (total <= 0) throw new VerificationError('CERT_INVALID', 'validator set has no voting power');
  const msg = voteSignBytes(chainId, 'precommit', cert.height, cert.round, cert.blockHash);
  let signed = 0;
  let prev = -1;
  for (const s of cert.sigs) {
    if (!Number.isInteger(s.validatorIndex) || s.validatorIndex <= prev) {
      throw new VerificationError(
        'CERT_INVALID',
        'certificate signatures must be sorted by validator index without duplicates',
        { height: cert.height },
      );
    }
    prev = s.validatorIndex;
    const v = validators[s.validatorIndex];
    if (v === undefined) {
      throw new VerificationError(
        'CERT_INVALID',
        `signature from unknown validator index ${s.validatorIndex}`,
        {
          height: cert.height,
        },
      );
    }
    if (!verifySignature(v.publicKey, msg, s.signature)) {
      throw new VerificationError(
        'CERT_BAD_SIGNATURE',
        `invalid precommit signature of validator ${s.validatorIndex} at height ${cert.height}`,
        { height: cert.height, validatorIndex: s.validatorIndex },
      );
    }
    signed += v.votingPower;
  }
  if (signed * 3 <= total * 2) {
    throw new VerificationError(
      'CERT_INSUFFICIENT_POWER',
      `certificate at height ${cert.height} carries ${signed} of ${total} voting power; more than 2/3 is needed`,
      { height: cert.height, signed, total },
    );
  }
}

/** Decode canonical header bytes (size-checked) into a BlockHeader. */
export function decodeHeaderBytes(bytes: Uint8Array): BlockHeader {
  if (bytes.byteLength === 0 || bytes.byteLength > 4096) {
    throw new VerificationError('MALFORMED', `header is ${bytes.byteLength} bytes; expected 1..4096`);
  }
  let w: WireBlockHeader;
  try {
    w = pb.BlockHeader.decode(bytes) as WireBlockHeader;
  } catch (err) {
    throw new VerificationError('MALFORMED', `header does not decode: ${(err as Error).message}`);
  }
  const num = (name: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number => {
    const n = Number(v ?? 0);
    if (!Number.isSafeInteger(n) || n < 0 || n > max)
      throw new VerificationError('MALFORMED', `header.${name} is out of range`);
    return n;
  };
  const b = (name: string, v: unknown, allowEmpty: boolean): Uint8Array => {
    const x = v instanceof Uint8Array ? new Uint8Array(v) : new Uint8Array(0);
    if (x.byteLength !== 32 && !(allowEmpty && x.byteLength === 0))
      throw new VerificationError('MALFORMED', `header.${name} must be 32 bytes`);
    return x;
  };
  const chainId = String(w.chainId ?? '');
  if (chainId.length === 0 || chainId.length > LIMITS.maxChainIdLength)
    throw new VerificationError('MALFORMED', 'header.chainId is empty or too long');
  return {
    chainId,
    height: num('height', w.height),
    round: num('round', w.round, 0xffff_ffff),
    timeMs: num('timeMs', w.timeMs),
    parentHash: b('parentHash', w.parentHash, false),
    dataHash: b('dataHash', w.dataHash, false),
    proposer: b('proposer', w.proposer, false),
    txCount: num('txCount', w.txCount, 0xffff_ffff),
    lastCommitHash: b('lastCommitHash', w.lastCommitHash, true),
    resultsHash: b('resultsHash', w.resultsHash, true),
    auctionHash: b('auctionHash', w.auctionHash, true),
  };
}

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export interface VerifyContext {
  chainId: string;
  namespace: Namespace;
  validators: Validator[];
}

/**
 * Verify one slice. Uses only `headerBytes` (never the decoded `header` field, which a node could make
 * disagree with them) and returns the header decoded from those bytes. Throws VerificationError.
 */
export function verifyNamespaceBlock(nb: NamespaceBlock, ctx: VerifyContext): BlockHeader {
  const hash = sha256(nb.headerBytes);
  const header = decodeHeaderBytes(nb.headerBytes);
  const at = { height: nb.height };
  if (!bytesEqual(hash, nb.blockHash))
    throw new VerificationError('HEADER_MISMATCH', 'blockHash is not the hash of the header', at);
  if (header.chainId !== ctx.chainId)
    throw new VerificationError('HEADER_MISMATCH', `header is for chain ${header.chainId}`, at);
  if (header.height !== nb.height || nb.certificate.height !== nb.height)
    throw new VerificationError(
      'HEADER_MISMATCH',
      'header, certificate and slice disagree on the height',
      at,
    );
  if (header.timeMs !== nb.timeMs)
    throw new VerificationError('HEADER_MISMATCH', 'timeMs differs from the header', at);
  if (nb.namespace !== ctx.namespace)
    throw new VerificationError('HEADER_MISMATCH', `slice is for namespace ${nb.namespace}`, at);
  verifyCommitCertificate(nb.certificate, ctx.validators, ctx.chainId, hash);
  if (!bytesEqual(dataHashFromRoots(nb.txsRoot, nb.spanCount, nb.spansRoot), header.dataHash)) {
    throw new VerificationError(
      'PROOF_INVALID',
      'txsRoot, spanCount and spansRoot do not make header.dataHash',
      {
        ...at,
        dataHash: toHex(header.dataHash),
      },
    );
  }
  const leaves = nb.transactions.map((p) => sha256(concatBytes(u32be(ctx.namespace), p)));
  const r = verifyNamespaceProof(nb.txsRoot, header.txCount, ctx.namespace, leaves, nb.proof);
  if (!r.ok) {
    throw new VerificationError('PROOF_INVALID', `namespace proof at height ${nb.height}: ${r.reason}`, {
      ...at,
      dataHash: toHex(header.dataHash),
    });
  }
  let prevEnd = 0;
  for (const s of nb.bundles) {
    if (s.namespace !== ctx.namespace || s.count === 0 || s.start + s.count > nb.transactions.length)
      throw new VerificationError('MALFORMED', 'bundle span outside the slice', at);
    if (s.start < prevEnd)
      throw new VerificationError('MALFORMED', 'bundle spans overlap or are unsorted', at);
    prevEnd = s.start + s.count;
  }
  const spans = verifyNamespaceProof(
    nb.spansRoot,
    nb.spanCount,
    ctx.namespace,
    nb.bundles.map(spanLeafHash),
    nb.spansProof,
  );
  if (!spans.ok) {
    throw new VerificationError(
      'PROOF_INVALID',
      `bundle spans proof at height ${nb.height}: ${spans.reason}`,
      at,
    );
  }
  if (nb.certifiedResults !== undefined) verifyCertifiedResults(nb.certifiedResults, header, ctx.namespace);
  if (nb.auction !== undefined) verifyAuctionPart(nb.auction, header, ctx.namespace);
  return header;
}

/**
 * Check that `header` (already verified) commits to `part` as `namespace`'s share of the height's
 * auction outcome. Returns the rollup's outcome (winner, price, proceeds, top bids), or undefined when
 * its top was not sold. Throws VerificationError AUCTION_INVALID.
 */
export function verifyAuctionPart(
  part: AuctionPart,
  header: BlockHeader,
  namespace: Namespace,
): RollupAuctionOutcome | undefined {
  const at = { height: header.height };
  if (part.outcomeRoot.byteLength !== 32)
    throw new VerificationError('AUCTION_INVALID', 'auction outcome root must be 32 bytes', at);
  if (!bytesEqual(auctionHashFromRoot(header.height, part.count, part.outcomeRoot), header.auctionHash))
    throw new VerificationError(
      'AUCTION_INVALID',
      'outcome root and count do not make header.auctionHash',
      at,
    );
  let outcome: RollupAuctionOutcome | undefined;
  if (part.outcome.byteLength > 0) {
    try {
      outcome = decodeRollupOutcome(part.outcome);
    } catch (err) {
      throw new VerificationError(
        'AUCTION_INVALID',
        `auction outcome does not decode: ${(err as Error).message}`,
        at,
      );
    }
    if (outcome.namespace !== namespace)
      throw new VerificationError(
        'AUCTION_INVALID',
        `auction outcome is for namespace ${outcome.namespace}`,
        at,
      );
  }
  const leaves = outcome === undefined ? [] : [rollupOutcomeLeafHash(outcome)];
  const r = verifyNamespaceProof(part.outcomeRoot, part.count, namespace, leaves, part.proof);
  if (!r.ok) throw new VerificationError('AUCTION_INVALID', `auction outcome proof: ${r.reason}`, at);
  return outcome;
}

/**
 * Check that `header` (already verified: certificate and hash) commits to `cr` as `namespace`'s
 * results of height header.height - 2. Throws VerificationError RESULTS_INVALID.
 */
export function verifyCertifiedResults(
  cr: CertifiedResults,
  header: BlockHeader,
  namespace: Namespace,
): void {
  const at = { height: header.height, resultsHeight: cr.height };
  if (cr.height !== header.height - RESULTS_LAG || cr.height < 1)
    throw new VerificationError(
      'RESULTS_INVALID',
      `results of height ${cr.height} in the header of ${header.height}`,
      at,
    );
  if (cr.receiptsRoot.byteLength !== 32 || cr.resultsRoot.byteLength !== 32)
    throw new VerificationError('RESULTS_INVALID', 'results roots must be 32 bytes', at);
  if (!bytesEqual(resultsHashFromRoot(cr.height, cr.resultCount, cr.resultsRoot), header.resultsHash))
    throw new VerificationError(
      'RESULTS_INVALID',
      'results root and count do not make header.resultsHash',
      at,
    );
  const leaf = resultLeafHash(cr.height, {
    namespace,
    stateRoot: cr.stateRoot,
    receiptsRoot: cr.receiptsRoot,
  });
  const r = verifyNamespaceProof(cr.resultsRoot, cr.resultCount, namespace, [leaf], cr.proof);
  if (!r.ok) throw new VerificationError('RESULTS_INVALID', `results proof: ${r.reason}`, at);
}

/** The receipts root of a rollup's encoded receipts (to compare pre-confirmed receipts with certified ones). */
export function receiptsRootOf(namespace: Namespace, receipts: Uint8Array[]): Uint8Array {
  return receiptsRoot(namespace, receipts);
}
