/**
 * The bundle methods of the JSON-RPC API (issue #22, docs/rpc.md "Bundles"): `ordo_sendBundle`,
 * `ordo_cancelBundle` and `ordo_getBundleStatus`. Params are parsed here (hex, sizes, UUIDs, key and
 * signature lengths, each -32602 naming the bad field), the domain `Bundle` is built in canonical form with
 * the default atomicity from the genesis rollup kinds, and it goes through the node's one ingress; the
 * pool's refusal codes become JSON-RPC errors in the style of `ordo_submitTransaction`
 * (`data.code`, `data.retryable`). Statuses are read from the pool's `BundleStatusView`.
 */
import { canonicalBundle, parseUuid } from '../codec/index.ts';
import type { Genesis } from '../config/index.ts';
import { fromHex } from '../crypto/index.ts';
import { isOrdoError } from '../errors.ts';
import type { Ingress } from '../ingress/index.ts';
import type { BundleSimulator, BundleStatus, BundleStatusView, SimulatedBundle } from '../mempool/index.ts';
import type { Bundle, BundleAtomicity, BundleLeg } from '../types.ts';
import { invalidParams, RPC, RpcError } from './errors.ts';
import { hex } from './json.ts';
import type { RpcServer } from './server.ts';

/** The simulator's refusals that are about the request (-32602), not the node. */
const SIM_INPUT_CODES: ReadonlySet<string> = new Set(['EXEC_SIM_HEIGHT_UNAVAILABLE', 'EXEC_SIM_TOO_LARGE']);
/**
 * The simulator's transient refusals (-32003, retryable): `EXEC_SIM_UNSTABLE` is blocks executing under
 * every attempt of the simulation (src/exec/executor.ts); the same call succeeds a moment later.
 * `EXEC_SIM_BUSY` is the node's gas rate for RPC simulations (src/node/capped-simulator.ts, ADR 0297),
 * with the wait until the bundle fits in its data.
 */
const SIM_RETRY_CODES: ReadonlySet<string> = new Set(['EXEC_SIM_UNSTABLE', 'EXEC_SIM_BUSY']);

/**
 * A bundle simulation's transient refusal (`EXEC_SIM_UNSTABLE`, `EXEC_SIM_BUSY`) as both
 * `ordo_callBundle` and `eth_callBundle` answer it: -32003 with `data: {code, retryable: true,
 * retryAfterMs}` (the refusal's own wait, else 200 ms; docs/rpc.md "Bundles", docs/eth-rpc.md);
 * undefined for any other error.
 */
export function simulationRetryError(err: unknown): RpcError | undefined {
  if (!isOrdoError(err) || !SIM_RETRY_CODES.has(err.code)) return undefined;
  const wait = err.data.retryAfterMs;
  return new RpcError(RPC.OVERLOADED, err.message, {
    ...err.data,
    code: err.code,
    retryable: true,
    retryAfterMs: typeof wait === 'number' ? wait : 200,
  });
}

/** Protocol limits of a bundle (src/codec: 100 txs, 300,000 bytes, 16 legs). */
export const BUNDLE_LIMITS = { maxLegs: 16, maxTxs: 100, maxBytes: 300_000 } as const;

export interface BundleRpcDeps {
  genesis: Genesis;
  ingress: Pick<Ingress, 'submitBundle' | 'cancelBundle' | 'maxTxBytes'>;
  /** The pool's statuses; without it `ordo_getBundleStatus` answers null. */
  bundles?: BundleStatusView;
  /** The executor's simulator; without it `ordo_callBundle` answers -32601 (this node cannot simulate). */
  simulator?: BundleSimulator;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function parseBytes(v: unknown, field: string, size?: number, max?: number): Uint8Array {
  if (typeof v !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(v.length > 2 * 400_000 ? '' : v))
    throw invalidParams(`${field} must be a 0x-prefixed hex string with an even number of digits`);
  const n = (v.length - 2) / 2;
  if (size !== undefined && n !== size) throw invalidParams(`${field} must be ${size} bytes, got ${n}`);
  if (max !== undefined && n > max)
    throw invalidParams(`${field} is ${n} bytes; the limit is ${max}`, { code: 'BUNDLE_TOO_LARGE' });
  return fromHex(v);
}

function parseHeight(v: unknown, field: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw invalidParams(`${field} must be a non-negative integer`);
  return v;
}

function parseUuidField(v: unknown, field: string): Uint8Array {
  const u = typeof v === 'string' ? parseUuid(v) : undefined;
  if (u === undefined) throw invalidParams(`${field} must be a UUID string (8-4-4-4-12 hex digits)`);
  return u;
}

/**
 * Run a param parser of the bundle methods: a -32602 it throws carries `data: {code, retryable: false}`
 * like the pool's refusals (docs/rpc.md "Bundles": `BUNDLE_MALFORMED` for a malformed param unless it
 * already names a code, e.g. `BUNDLE_TOO_LARGE`), so a client can switch on `data.code` alone.
 */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof RpcError) || err.code !== RPC.INVALID_PARAMS) throw err;
    const data = isObj(err.data) ? err.data : {};
    throw new RpcError(err.code, err.message, {
      ...data,
      code: data.code ?? 'BUNDLE_MALFORMED',
      retryable: false,
    });
  }
}

/** Parse `ordo_sendBundle`'s object into a canonical domain Bundle; throws -32602 naming the bad field. */
export function parseBundle(p: unknown, genesis: Genesis, maxTxBytes: number): Bundle {
  return parsed(() => parseBundleFields(p, genesis, maxTxBytes));
}

function parseBundleFields(p: unknown, genesis: Genesis, maxTxBytes: number): Bundle {
  if (!isObj(p)) throw invalidParams('expected [{legs: [{namespace, txs, revertingTxHashes?}], …}]');
  if (!Array.isArray(p.legs) || p.legs.length === 0) throw invalidParams('legs must be a non-empty array');
  if (p.legs.length > BUNDLE_LIMITS.maxLegs)
    throw invalidParams(`legs has ${p.legs.length} entries; the limit is ${BUNDLE_LIMITS.maxLegs}`, {
      code: 'BUNDLE_TOO_LARGE',
    });
  let txCount = 0;
  let bytes = 0;
  const seen = new Set<number>();
  const legs: BundleLeg[] = p.legs.map((l: unknown, i: number) => {
    const f = `legs[${i}]`;
    if (!isObj(l)) throw invalidParams(`${f} must be {namespace, txs, revertingTxHashes?}`);
    const ns = l.namespace;
    if (typeof ns !== 'number' || !Number.isInteger(ns) || ns < 1 || ns > 0xffffffff)
      throw invalidParams(`${f}.namespace must be an integer in 1..4294967295`);
    if (seen.has(ns)) throw invalidParams(`${f}.namespace ${ns} appears in two legs`);
    seen.add(ns);
    if (!Array.isArray(l.txs) || l.txs.length === 0)
      throw invalidParams(`${f}.txs must be a non-empty array`);
    txCount += l.txs.length;
    if (txCount > BUNDLE_LIMITS.maxTxs)
      throw invalidParams(`bundle has more than ${BUNDLE_LIMITS.maxTxs} transactions`, {
        code: 'BUNDLE_TOO_LARGE',
      });
    const txs = l.txs.map((t: unknown, j: number) => {
      const b = parseBytes(t, `${f}.txs[${j}]`, undefined, maxTxBytes);
      if (b.length === 0) throw invalidParams(`${f}.txs[${j}] is empty`);
      bytes += b.length;
      if (bytes > BUNDLE_LIMITS.maxBytes)
        throw invalidParams(`bundle is over ${BUNDLE_LIMITS.maxBytes} bytes`, { code: 'BUNDLE_TOO_LARGE' });
      return b;
    });
    const rev = l.revertingTxHashes ?? [];
    if (!Array.isArray(rev) || rev.length > txs.length)
      throw invalidParams(`${f}.revertingTxHashes must be an array of at most ${txs.length} hashes`);
    const revertingTxHashes = rev.map((h: unknown, j: number) =>
      parseBytes(h, `${f}.revertingTxHashes[${j}]`, 32),
    );
    return { namespace: ns, txs, revertingTxHashes };
  });
  let atomicity: BundleAtomicity;
  if (p.atomicity === undefined) {
    const kinds = legs.map((l) => genesis.rollups.find((r) => r.namespace === l.namespace)?.kind);
    // An unknown namespace is left to the pool, whose UNKNOWN_NAMESPACE refusal names it.
    atomicity = kinds.every((k) => k === 'transfer' || k === 'evm') ? 'execution' : 'inclusion';
  } else if (p.atomicity === 'execution' || p.atomicity === 'inclusion') {
    atomicity = p.atomicity;
  } else {
    throw invalidParams('atomicity must be "execution" or "inclusion"');
  }
  const minHeight = parseHeight(p.minHeight, 'minHeight');
  const maxHeight = parseHeight(p.maxHeight, 'maxHeight');
  const replacementUuid =
    p.replacementUuid === undefined
      ? new Uint8Array(0)
      : parseUuidField(p.replacementUuid, 'replacementUuid');
  const signer = p.signer === undefined ? new Uint8Array(0) : parseBytes(p.signer, 'signer', 32);
  const signature = p.signature === undefined ? new Uint8Array(0) : parseBytes(p.signature, 'signature', 64);
  if ((signer.length === 0) !== (signature.length === 0))
    throw invalidParams('signer and signature must be given together');
  if (replacementUuid.length > 0 && signer.length === 0)
    throw invalidParams('replacementUuid needs a signed bundle (signer and signature)');
  return canonicalBundle({ legs, atomicity, minHeight, maxHeight, replacementUuid, signer, signature });
}

/** The pool's (and ingress's) refusal codes as JSON-RPC errors, in ordo_submitTransaction's style. */
export function bundleRpcError(r: { code: string; message: string; retryable: boolean }): RpcError {
  const data = { code: r.code, retryable: r.retryable, ...(r.retryable ? { retryAfterMs: 200 } : {}) };
  switch (r.code) {
    case 'BUNDLE_MALFORMED':
    case 'UNKNOWN_NAMESPACE':
    case 'INVALID_NAMESPACE':
    case 'BUNDLE_TOO_LARGE':
    case 'REVERTING_HASH_UNKNOWN':
    case 'ATOMICITY_UNSUPPORTED':
      return invalidParams(r.message, data);
    case 'BUNDLE_POOL_FULL':
      return new RpcError(RPC.MEMPOOL_FULL, r.message, data);
    case 'OVERLOADED':
    case 'SHUTTING_DOWN':
      return new RpcError(RPC.OVERLOADED, r.message, data);
    default:
      // BAD_SIGNATURE, WINDOW_PASSED, DUPLICATE, REPLACEMENT_FORBIDDEN, UNKNOWN_BUNDLE, ALREADY_COMMITTED,
      // TX_ALREADY_COMMITTED, INVALID_TX: the bundle (or cancel) is refused for good.
      return new RpcError(RPC.TX_REJECTED, r.message, data);
  }
}

/** A BundleStatus as JSON: bytes as 0x hex, heights as numbers, gas as decimal strings (bigint). */
export function bundleStatusJson(s: BundleStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { status: s.status };
  if (s.reason !== undefined) out.reason = s.reason;
  if (s.detail !== undefined) out.detail = s.detail;
  if (s.height !== undefined) out.height = s.height;
  if (s.spans !== undefined)
    out.spans = s.spans.map((sp) => JSON.parse(JSON.stringify(sp, (_k, v) => jsonValue(v))) as unknown);
  if (s.execution !== undefined)
    out.execution = {
      outcome: s.execution.outcome,
      legs: s.execution.legs.map((l) => ({
        namespace: l.namespace,
        receipts: l.receipts.map((r) => ({
          index: r.index,
          status: r.status,
          gasUsed: r.gasUsed.toString(),
          ...(r.error !== undefined ? { error: r.error } : {}),
        })),
      })),
    };
  if (s.preconfirmation !== undefined)
    out.preconfirmation = JSON.parse(JSON.stringify(s.preconfirmation, (_k, v) => jsonValue(v))) as unknown;
  if (s.certified !== undefined) out.certified = s.certified;
  return out;
}

function jsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Set) return [...v];
  return v;
}

export function registerBundleMethods(rpc: Pick<RpcServer, 'register'>, d: BundleRpcDeps): void {
  rpc.register('ordo_sendBundle', (params) => {
    const b = parseBundle(params[0], d.genesis, d.ingress.maxTxBytes);
    const r = d.ingress.submitBundle(b, 'jsonrpc');
    // `replaced`: the pending bundle of the same signer and UUID this one took the place of (as gRPC
    // SubmitBundleResponse.replaced), so a searcher learns it without a status call.
    if (r.ok)
      return r.replaced === undefined
        ? { bundleHash: hex(r.bundleHash) }
        : { bundleHash: hex(r.bundleHash), replaced: hex(r.replaced) };
    throw bundleRpcError(r);
  });

  rpc.register('ordo_cancelBundle', (params) => {
    const req = parsed(() => {
      const p = params[0];
      if (!isObj(p)) throw invalidParams('expected [{replacementUuid, signer, signature}]');
      return {
        replacementUuid: parseUuidField(p.replacementUuid, 'replacementUuid'),
        signer: parseBytes(p.signer, 'signer', 32),
        signature: parseBytes(p.signature, 'signature', 64),
      };
    });
    const r = d.ingress.cancelBundle(req, 'jsonrpc');
    if (r.ok) return { cancelled: r.cancelled.map(hex) };
    throw bundleRpcError(r);
  });

  rpc.register('ordo_callBundle', async (params) => {
    const b = parseBundle(params[0], d.genesis, d.ingress.maxTxBytes);
    const o = params[1];
    const h = parsed(() => {
      if (o !== undefined && !isObj(o)) throw invalidParams('options must be {height?: "pending" | number}');
      const v = o?.height;
      if (v !== undefined && v !== 'pending' && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0))
        throw invalidParams('height must be "pending" or a non-negative integer');
      return v;
    });
    if (d.simulator === undefined)
      throw new RpcError(RPC.METHOD_NOT_FOUND, 'ordo_callBundle: this node has no simulator');
    try {
      return simulatedJson(await d.simulator.simulate(b, typeof h === 'number' ? { height: h } : undefined));
    } catch (err) {
      // A height whose state the node does not hold (only the latest executed one is kept) is the
      // caller's choice, not an internal error: -32602 with the height it can simulate.
      if (isOrdoError(err) && SIM_INPUT_CODES.has(err.code))
        throw invalidParams(err.message, { ...err.data, code: err.code, retryable: false });
      // Executed heads moved under each attempt: transient, not an internal error (docs/rpc.md "Bundles").
      throw simulationRetryError(err) ?? err;
    }
  });

  rpc.register('ordo_getBundleStatus', (params) => {
    const h = parsed(() => parseBytes(params[0], 'bundleHash', 32));
    const s = d.bundles?.status(h);
    return s === undefined ? null : bundleStatusJson(s);
  });
}

/** A simulation as JSON (`ordo_callBundle`): hashes and data as 0x hex, gas as a decimal string. */
export function simulatedJson(r: SimulatedBundle): Record<string, unknown> {
  return {
    applies: r.applies,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    height: r.height,
    legs: r.legs.map((l) => ({
      namespace: l.namespace,
      executed: l.executed,
      txs: l.txs.map((t) => ({
        hash: hex(t.hash),
        status: t.status,
        gasUsed: t.gasUsed.toString(),
        ...(t.error !== undefined ? { error: t.error } : {}),
        ...(t.returnData !== undefined ? { returnData: hex(t.returnData) } : {}),
      })),
      ...(l.stateRoot !== undefined ? { stateRoot: hex(l.stateRoot) } : {}),
    })),
  };
}
