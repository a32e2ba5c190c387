/**
 * Verifying a bundle pre-confirmation (issue #22 rule 5, docs/bundles.md): any client checks that a
 * genesis validator signed `preconfSignBytes` of the body with its ed25519 key. A pre-confirmation is a
 * node's word, not a certificate: compare its legs with the certified results (results_hash of the
 * header two heights later) to stop trusting it. Never throws: malformed input gives a reason.
 */
import { verifySignature } from '../crypto/index.ts';
import type { Validator, ValidatorSet } from '../types.ts';
import { type Preconfirmation, preconfSignBytes } from './bundle.ts';

export type PreconfVerdict = { valid: true; validatorIndex: number } | { valid: false; reason: string };

const is = (b: unknown, n: number): boolean => b instanceof Uint8Array && b.byteLength === n;

/**
 * Check a pre-confirmation against a validator set (or any list of trusted node keys): field sizes,
 * legs sorted by namespace, the chain id when given, a known signer and its signature.
 */
export function verifyPreconfirmation(
  p: Preconfirmation,
  validators: ValidatorSet | readonly Validator[],
  opts: { chainId?: string } = {},
): PreconfVerdict {
  const list = Array.isArray(validators) ? validators : (validators as ValidatorSet).validators;
  if (typeof p !== 'object' || p === null) return { valid: false, reason: 'not a pre-confirmation' };
  if (typeof p.chainId !== 'string') return { valid: false, reason: 'chainId must be a string' };
  if (opts.chainId !== undefined && p.chainId !== opts.chainId)
    return { valid: false, reason: `chain id ${p.chainId} is not ${opts.chainId}` };
  if (!is(p.bundleHash, 32) || !is(p.blockHash, 32))
    return { valid: false, reason: 'bundleHash and blockHash must be 32 bytes' };
  if (!Number.isSafeInteger(p.height) || p.height < 1) return { valid: false, reason: 'bad height' };
  if (p.outcome !== 'applied' && p.outcome !== 'reverted') return { valid: false, reason: 'bad outcome' };
  if (!Array.isArray(p.legs) || p.legs.length === 0 || p.legs.length > 16)
    return { valid: false, reason: 'legs must number 1..16' };
  for (let i = 0; i < p.legs.length; i++) {
    const l = p.legs[i]!;
    if (!Number.isInteger(l.namespace) || l.namespace < 0 || l.namespace > 0xffff_ffff)
      return { valid: false, reason: `leg ${i}: bad namespace` };
    if (i > 0 && l.namespace <= p.legs[i - 1]!.namespace)
      return { valid: false, reason: 'legs must be sorted by namespace, one per namespace' };
    if (!is(l.stateRoot, 32) || !is(l.receiptsRoot, 32))
      return { valid: false, reason: `leg ${i}: roots must be 32 bytes` };
  }
  if (!is(p.signer, 32) || !is(p.signature, 64))
    return { valid: false, reason: 'signer must be 32 bytes and signature 64 bytes' };
  const validatorIndex = list.findIndex((v) => Buffer.from(v.publicKey).equals(p.signer));
  if (validatorIndex < 0) return { valid: false, reason: 'signer is not in the validator set' };
  if (!verifySignature(p.signer, preconfSignBytes(p), p.signature))
    return { valid: false, reason: 'signature does not verify' };
  return { valid: true, validatorIndex };
}
