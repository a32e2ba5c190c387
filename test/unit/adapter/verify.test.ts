import { describe, expect, it } from 'vitest';
import { encodeHeader } from '../../../src/codec/codec.ts';
import { sha256 } from '../../../src/crypto/hash.ts';
import { VerificationError } from '../../../src/rollup-adapter/errors.ts';
import { SliceCache, sliceBlock } from '../../../src/rollup-adapter/slice.ts';
import { MemorySource, signCertificate } from '../../../src/rollup-adapter/testing/memory-source.ts';
import type { NamespaceBlock } from '../../../src/rollup-adapter/types.ts';
import { verifyCommitCertificate, verifyNamespaceBlock } from '../../../src/rollup-adapter/verify.ts';
import type { TxEnvelope } from '../../../src/types.ts';

const enc = new TextEncoder();
const tx = (namespace: number, s: string): TxEnvelope => ({ namespace, payload: enc.encode(s) });

function setup() {
  const src = new MemorySource({ validatorCount: 4 });
  const cb = src.produceBlock([tx(1, 'a1'), tx(2, 'b1'), tx(1, 'a2'), tx(3, 'c1'), tx(2, 'b2'), tx(2, 'b3')]);
  const ctx = { chainId: src.chainId, validators: src.validators, namespace: 2 };
  return { src, cb, ctx, nb: sliceBlock(cb, 2, new SliceCache()) };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(VerificationError);
    return (err as VerificationError).code;
  }
}

describe('NamespaceBlock verification', () => {
  it('accepts real slices, including an empty one with a proof of absence', () => {
    const { src, cb, ctx, nb } = setup();
    expect(nb.transactions.map((p) => new TextDecoder().decode(p))).toEqual(['b1', 'b2', 'b3']);
    expect(verifyNamespaceBlock(nb, ctx).height).toBe(1);
    const empty = src.produceBlock([tx(1, 'x'), tx(3, 'y')]);
    const nb2 = sliceBlock(empty, 2);
    expect(nb2.transactions).toEqual([]);
    expect(() => verifyNamespaceBlock(nb2, ctx)).not.toThrow();
    expect(() => verifyNamespaceBlock(sliceBlock(src.produceBlock([]), 2), ctx)).not.toThrow();
    expect(cb.block.header.height).toBe(1);
  });

  it('rejects a slice with one transaction removed, added or reordered', () => {
    const { ctx, nb } = setup();
    const t = nb.transactions;
    const variants: NamespaceBlock[] = [
      { ...nb, transactions: [t[0]!, t[2]!] },
      { ...nb, transactions: [t[0]!, t[2]!], proof: { ...nb.proof, end: nb.proof.end - 1 } },
      { ...nb, transactions: [...t, enc.encode('b4')] },
      { ...nb, transactions: [...t, enc.encode('b4')], proof: { ...nb.proof, end: nb.proof.end + 1 } },
      { ...nb, transactions: [t[1]!, t[0]!, t[2]!] },
      { ...nb, transactions: [t[0]!, enc.encode('evil'), t[2]!] },
    ];
    for (const v of variants) expect(codeOf(() => verifyNamespaceBlock(v, ctx))).toBe('PROOF_INVALID');
  });

  it('rejects a forged signature and less than 2/3 of the voting power', () => {
    const { src, ctx, nb } = setup();
    const sigs = nb.certificate.sigs.map((s) => ({ ...s, signature: new Uint8Array(s.signature) }));
    sigs[1]!.signature[5]! ^= 1;
    expect(codeOf(() => verifyNamespaceBlock({ ...nb, certificate: { ...nb.certificate, sigs } }, ctx))).toBe(
      'CERT_BAD_SIGNATURE',
    );
    // 2 of 4 equal-power validators: exactly 1/2 < 2/3; 3 of 4 is enough.
    const two = signCertificate(src.chainId, src.signers, 1, 0, nb.blockHash, [0, 2]);
    expect(codeOf(() => verifyNamespaceBlock({ ...nb, certificate: two }, ctx))).toBe(
      'CERT_INSUFFICIENT_POWER',
    );
    const three = signCertificate(src.chainId, src.signers, 1, 0, nb.blockHash, [0, 2, 3]);
    expect(() => verifyNamespaceBlock({ ...nb, certificate: three }, ctx)).not.toThrow();
    // exactly 2/3 of the power is not enough (strictly more is required)
    const weighted = [
      { ...src.validators[0]!, votingPower: 2 },
      { ...src.validators[1]!, votingPower: 1 },
      { ...src.validators[2]!, votingPower: 0 },
      { ...src.validators[3]!, votingPower: 0 },
    ];
    const c2 = signCertificate(src.chainId, src.signers, 1, 0, nb.blockHash, [0]);
    expect(codeOf(() => verifyCommitCertificate(c2, weighted, src.chainId))).toBe('CERT_INSUFFICIENT_POWER');
    // duplicated signer counts once: rejected as unsorted/duplicate
    const dup = { ...three, sigs: [three.sigs[0]!, three.sigs[0]!, three.sigs[1]!] };
    expect(codeOf(() => verifyCommitCertificate(dup, src.validators, src.chainId))).toBe('CERT_INVALID');
    // a certificate from another chain id does not verify
    expect(codeOf(() => verifyCommitCertificate(nb.certificate, src.validators, 'other-chain'))).toBe(
      'CERT_BAD_SIGNATURE',
    );
  });

  it('rejects a header that does not hash to the certified block, and other chains and namespaces', () => {
    const { ctx, nb } = setup();
    const forged = encodeHeader({ ...nb.header, dataHash: sha256(nb.header.dataHash) });
    expect(codeOf(() => verifyNamespaceBlock({ ...nb, headerBytes: forged }, ctx))).toBe('HEADER_MISMATCH');
    expect(
      codeOf(() => verifyNamespaceBlock({ ...nb, headerBytes: forged, blockHash: sha256(forged) }, ctx)),
    ).toBe('CERT_INVALID');
    expect(codeOf(() => verifyNamespaceBlock(nb, { ...ctx, namespace: 1 }))).toBe('HEADER_MISMATCH');
    expect(codeOf(() => verifyNamespaceBlock(nb, { ...ctx, chainId: 'x' }))).toBe('HEADER_MISMATCH');
    expect(
      codeOf(() => verifyNamespaceBlock({ ...nb, headerBytes: new Uint8Array([0xff, 0xff]) }, ctx)),
    ).toBe('MALFORMED');
  });
});
