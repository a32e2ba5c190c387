/**
 * Time-boxed fuzzing of every decoder and verifier in test/fuzz/targets.ts and of every JSON-RPC
 * method's params (test/fuzz/rpc-targets.ts), longer than the fixed-seed run in `npm test`: each
 * target gets --seconds of random bytes and of mutated valid encodings (a fresh random seed each run,
 * printed so a failure replays with FUZZ_SEED in the test). Reports executions and failures per target
 * and the process's peak RSS (memory must stay bounded), as JSON.
 *
 *   npm run fuzz -- [--seconds 10] [--out FILE] [--seed N]
 */

import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { expectRpcAnswer, nearValidParams, openRpcHarness, randomParams } from '../test/fuzz/rpc-targets.ts';
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
} from '../test/fuzz/targets.ts';
import { writeResult } from './lib/json-out.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    out: { type: 'string' },
    seed: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
if (!(seconds > 0 && seconds <= 3600)) throw new Error(`--seconds must be in (0, 3600], got ${args.seconds}`);
const seed = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);

interface TargetResult {
  target: string;
  executions: number;
  failures: number;
  counterexample?: string;
}

function run<T>(name: string, arb: fc.Arbitrary<T>, body: (x: T) => void, ms: number): TargetResult {
  let executions = 0;
  const details = fc.check(
    fc.property(arb, (x) => {
      executions++;
      body(x);
    }),
    { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: ms, markInterruptAsFailure: false },
  );
  const failed = details.failed;
  return {
    target: name,
    executions,
    failures: failed ? 1 : 0,
    ...(failed ? { counterexample: fc.stringify(details.counterexample) } : {}),
  };
}

const results: TargetResult[] = [];
const perPart = (seconds * 1000) / 2;
for (const t of BYTE_TARGETS) {
  process.stderr.write(`fuzzing ${t.name} for ${seconds} s\n`);
  const a = run(
    `${t.name}/random`,
    fc.uint8Array({ maxLength: 4096 }),
    (b) => expectTypedOutcome(() => t.run(b)),
    perPart,
  );
  const b = run(
    `${t.name}/mutated`,
    fc.tuple(t.valid, fc.array(mutation, { minLength: 1, maxLength: 6 })),
    ([v, ms]) => expectTypedOutcome(() => t.run(mutate(v, ms))),
    perPart,
  );
  results.push(a, b);
}
for (const t of OBJECT_TARGETS) {
  process.stderr.write(`fuzzing ${t.name} for ${seconds} s\n`);
  results.push(
    run(`${t.name}/json`, jsonValue, (v) => expectTypedOutcome(() => t.run(v)), perPart),
    run(
      `${t.name}/mutated`,
      fc.array(objectMutation, { minLength: 1, maxLength: 4 }),
      (ms) => {
        let v = t.valid;
        for (const m of ms) v = mutateObject(v, m);
        expectTypedOutcome(() => t.run(v));
      },
      perPart,
    ),
  );
}
process.stderr.write(`fuzzing verifyNamespaceProof for ${seconds} s\n`);
results.push(run('verifyNamespaceProof', nmtCase, runNmtCase, seconds * 1000));

// JSON-RPC params (test/fuzz/rpc-targets.ts): every ordo_* and eth_* method through the real dispatch.
const rpc = await openRpcHarness();
try {
  for (const s of rpc.surfaces) {
    process.stderr.write(`fuzzing ${s.name}_* JSON-RPC params for ${seconds} s\n`);
    for (const [kind, params] of [
      ['random', randomParams],
      ['near-valid', nearValidParams],
    ] as const) {
      let executions = 0;
      const details = await fc.check(
        fc.asyncProperty(fc.constantFrom(...s.methods), params, async (m, p) => {
          executions++;
          expectRpcAnswer(await s.call(m, p), s.codes, `${m} ${JSON.stringify(p)?.slice(0, 200)}`);
        }),
        {
          seed,
          numRuns: Number.MAX_SAFE_INTEGER,
          timeout: 10_000,
          interruptAfterTimeLimit: perPart,
          markInterruptAsFailure: false,
        },
      );
      results.push({
        target: `rpc/${s.name}/${kind}`,
        executions,
        failures: details.failed ? 1 : 0,
        ...(details.failed ? { counterexample: fc.stringify(details.counterexample) } : {}),
      });
    }
  }
} finally {
  await rpc.close();
}

const out = {
  benchmark: 'fuzz',
  seed,
  secondsPerTarget: seconds,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  totalExecutions: results.reduce((n, r) => n + r.executions, 0),
  failures: results.reduce((n, r) => n + r.failures, 0),
  targets: results,
};
writeResult(out, args.out);
if (out.failures > 0) process.exitCode = 1;
