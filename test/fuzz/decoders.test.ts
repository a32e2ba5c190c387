/**
 * Fuzzing of every decoder that reads network or disk bytes, and of the namespace-proof verifier
 * (targets in ./targets.ts). Fixed seeds, so a failure replays; the counts are small enough for every
 * `npm test` (FUZZ_RUNS raises them; `npm run fuzz` runs each target for a time budget instead).
 * Regressions found by fuzzing go to ./corpus.json as hex and are replayed first.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BYTE_TARGETS,
  expectTypedOutcome,
  jsonValue,
  mutate,
  mutateObject,
  mutation,
  nmtCase,
  OBJECT_TARGETS,
  objectMutation,
  runNmtCase,
} from './targets.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const corpus = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'corpus.json'), 'utf8'),
) as Record<string, string[]>;

describe('fuzz: decoders return a value or a typed error, never anything else', () => {
  for (const t of BYTE_TARGETS) {
    describe(t.name, () => {
      it('replays the saved corpus', () => {
        for (const hex of corpus[t.name] ?? []) expectTypedOutcome(() => t.run(Buffer.from(hex, 'hex')));
      });
      it('random bytes', () => {
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 2048 }), (b) => expectTypedOutcome(() => t.run(b))),
          { seed: SEED, numRuns: RUNS },
        );
      });
      it('mutated valid encodings', () => {
        fc.assert(
          fc.property(t.valid, fc.array(mutation, { minLength: 1, maxLength: 4 }), (b, ms) =>
            expectTypedOutcome(() => t.run(mutate(b, ms))),
          ),
          { seed: SEED + 1, numRuns: RUNS },
        );
      });
      it('valid encodings decode', () => {
        fc.assert(
          fc.property(t.valid, (b) => {
            expectTypedOutcome(() => t.run(b));
          }),
          { seed: SEED + 2, numRuns: Math.ceil(RUNS / 3) },
        );
      });
    });
  }
});

describe('fuzz: validators of parsed config, genesis and adapter wire objects', () => {
  for (const t of OBJECT_TARGETS) {
    describe(t.name, () => {
      it('the valid value passes', () => {
        expect(() => t.run(structuredClone(t.valid))).not.toThrow();
      });
      it('arbitrary JSON values', () => {
        fc.assert(
          fc.property(jsonValue, (v) => expectTypedOutcome(() => t.run(v))),
          { seed: SEED + 4, numRuns: RUNS },
        );
      });
      it('the valid value with fields replaced or removed', () => {
        fc.assert(
          fc.property(fc.array(objectMutation, { minLength: 1, maxLength: 3 }), (ms) => {
            let v = t.valid;
            for (const m of ms) v = mutateObject(v, m);
            expectTypedOutcome(() => t.run(v));
          }),
          { seed: SEED + 5, numRuns: RUNS },
        );
      });
    });
  }
});

describe('fuzz: namespace proofs', () => {
  it('honest proofs verify and tampered ones never do, without throwing', () => {
    fc.assert(
      fc.property(nmtCase, (c) => {
        expect(() => runNmtCase(c)).not.toThrow();
      }),
      { seed: SEED + 3, numRuns: RUNS * 3 },
    );
  });
});
