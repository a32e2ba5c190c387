import { describe, expect, it } from 'vitest';
import { voteSignBytes } from '../../../src/codec/hashing.ts';
import { CertificateError, makeCertificate, verifyCertificate } from '../../../src/consensus/certificate.ts';
import { ed25519Signer } from '../../../src/consensus/signing.ts';
import { makeValidatorSet } from '../../../src/consensus/validators.ts';
import { generateKeyPair } from '../../../src/crypto/ed25519.ts';
import { sha256 } from '../../../src/crypto/hash.ts';
import type { Vote } from '../../../src/types.ts';

const CHAIN = 'ordo-cert';
const keys = [0, 1, 2, 3].map(() => generateKeyPair());
const set = makeValidatorSet(keys.map((k, i) => ({ publicKey: k.publicKey, votingPower: i === 0 ? 2 : 1 })));
const hash = sha256(new Uint8Array([1]));

function precommit(i: number, h = 5, r = 1, blockHash: Uint8Array | null = hash, chain = CHAIN): Vote {
  const signature = ed25519Signer(keys[i]!.seed).sign(voteSignBytes(chain, 'precommit', h, r, blockHash));
  return { type: 'precommit', height: h, round: r, blockHash, validatorIndex: i, signature };
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CertificateError);
    return (err as CertificateError).code;
  }
  return 'no error';
}

describe('commit certificates', () => {
  it('builds from precommits (sorted, deduplicated, other votes ignored) and verifies', () => {
    const votes = [precommit(2), precommit(0), precommit(2), precommit(1, 5, 0), precommit(3, 5, 1, null)];
    const cert = makeCertificate(5, 1, hash, votes);
    expect(cert.sigs.map((s) => s.validatorIndex)).toEqual([0, 2]);
    // 2 + 1 = 3 of 5: not more than 2/3.
    expect(code(() => verifyCertificate(cert, set, CHAIN, hash))).toBe('CERT_INSUFFICIENT_POWER');
    const ok = makeCertificate(5, 1, hash, [precommit(0), precommit(1), precommit(2)]);
    expect(verifyCertificate(ok, set, CHAIN, hash)).toBe(4);
    expect(verifyCertificate(ok, set, CHAIN)).toBe(4);
  });

  it('throws typed errors for every kind of bad certificate', () => {
    const ok = makeCertificate(5, 1, hash, [precommit(0), precommit(1), precommit(2)]);
    expect(code(() => verifyCertificate(ok, set, CHAIN, sha256(new Uint8Array([2]))))).toBe(
      'CERT_WRONG_BLOCK',
    );
    expect(code(() => verifyCertificate(ok, set, 'other-chain', hash))).toBe('CERT_BAD_SIGNATURE');
    expect(code(() => verifyCertificate({ ...ok, round: 2 }, set, CHAIN))).toBe('CERT_BAD_SIGNATURE');
    expect(code(() => verifyCertificate({ ...ok, height: 6 }, set, CHAIN))).toBe('CERT_BAD_SIGNATURE');
    const unknown = { ...ok, sigs: [...ok.sigs, { validatorIndex: 9, signature: new Uint8Array(64) }] };
    expect(code(() => verifyCertificate(unknown, set, CHAIN))).toBe('CERT_UNKNOWN_VALIDATOR');
    const dup = { ...ok, sigs: [ok.sigs[0]!, ok.sigs[0]!, ok.sigs[1]!] };
    expect(code(() => verifyCertificate(dup, set, CHAIN))).toBe('CERT_DUPLICATE_SIGNER');
    const forged = {
      ...ok,
      sigs: ok.sigs.map((s, i) => (i === 1 ? { ...s, signature: new Uint8Array(64) } : s)),
    };
    expect(code(() => verifyCertificate(forged, set, CHAIN))).toBe('CERT_BAD_SIGNATURE');
    expect(code(() => verifyCertificate({ ...ok, blockHash: new Uint8Array(3) }, set, CHAIN))).toBe(
      'CERT_MALFORMED',
    );
    expect(code(() => verifyCertificate({ ...ok, height: 0 }, set, CHAIN))).toBe('CERT_MALFORMED');
    expect(code(() => verifyCertificate({ ...ok, sigs: [] }, set, CHAIN))).toBe('CERT_INSUFFICIENT_POWER');
  });

  it('a single validator certifies alone', () => {
    const one = makeValidatorSet([{ publicKey: keys[0]!.publicKey, votingPower: 1 }]);
    const cert = makeCertificate(5, 1, hash, [precommit(0)]);
    expect(verifyCertificate(cert, one, CHAIN, hash)).toBe(1);
  });
});
