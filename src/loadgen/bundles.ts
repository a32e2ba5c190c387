/**
 * Bundle load (issue #22), the pure half: `BundlePlanner` makes single- and cross-rollup bundles over
 * the executed rollups (transfer, evm), a configurable share built to fail (one leg's nonce is far ahead,
 * so that tx is invalid and the bundle is voided or dropped `would-revert`), renders them as `ordo_sendBundle`
 * params, and `checkAtomicity` judges, from every leg's effect read back after the run, whether each
 * bundle applied in all of its rollups or in none.
 *
 * Every leg pays `amount` to a recipient that only this bundle pays, so a leg's effect is simply that
 * recipient's balance: `amount` when the leg applied, 0 when not. Bundle senders are accounts reserved
 * for bundles (the caller passes indices the background load does not use); a sender's nonce is spent
 * only when the bundle applied, which the caller reports through `settled`. A bundle built to fail does
 * not hold its senders (ADR 0351): it can never apply, so it never spends the nonces it carries.
 *
 * The network half is src/loadgen/bundle-sender.ts (sending, following statuses) with
 * src/loadgen/bundle-feed.ts (the WebSocket status subscription).
 */
import { createCustomCommon, Hardfork, Mainnet } from '@ethereumjs/common';
import { createFeeMarket1559Tx } from '@ethereumjs/tx';
import { bundleHash, bundleSignBytes, canonicalBundle } from '../codec/index.ts';
import { demoEvmKey, demoTransferSeed } from '../config/index.ts';
import { Ed25519Signer, sha256, toHex } from '../crypto/index.ts';
import { evmSigningCrypto, signTransfer, transferSigner } from '../exec/index.ts';
import type { RollupKind } from '../types.ts';

export interface BundleRollup {
  namespace: number;
  kind: RollupKind;
  evmChainId?: number;
}

export interface PlannedLeg {
  namespace: number;
  tx: Uint8Array;
  /** The address (evm, 0x-hex) or public key (transfer, hex) only this leg pays. */
  recipient: string;
  amount: bigint;
  account: number;
  nonce: number;
}

export interface PlannedBundle {
  id: number;
  cross: boolean;
  builtToFail: boolean;
  legs: PlannedLeg[];
  /** Last height it may land at (absent or 0 = no bound); with `window` the proposers' refusals expire. */
  maxHeight?: number;
  /** With `chainId`: the sender account's bundle key (32 bytes) and its ed25519 signature. */
  signer?: Uint8Array;
  signature?: Uint8Array;
}

export interface BundlePlannerOptions {
  /** Executed rollups to draw legs from (opaque ones are ignored). */
  rollups: BundleRollup[];
  /** Demo account indices reserved for bundle senders (not used by the background load). */
  accounts: number[];
  /** Share of bundles that touch two rollups, in [0, 1]. Default 0.5. */
  crossShare?: number;
  /** Share of bundles built to fail, in [0, 1]. Default 0.1. */
  failShare?: number;
  /** Distinguishes this run's recipients from any earlier run's. */
  runId: string;
  /** Deterministic choice in [0, 1): the caller's seeded random source. */
  random: () => number;
  amount?: bigint;
  /**
   * Sign every bundle with its sender account's bundle key (a searcher's key), over the canonical
   * encoding for this chain. Signed bundles get a pool bucket per signer (`bundles.maxPerSigner`);
   * unsigned ones all share the one anonymous bucket, which a load of many bundles fills.
   */
  chainId?: string;
  /**
   * Give every bundle `maxHeight = height() + heights`, so one the proposers leave out (built to fail)
   * is dropped `would-revert` and its sender is free again; without it such bundles stay pending.
   */
  window?: { height: () => number; heights: number };
}

/** A failing leg's nonce gap: the transaction is invalid (nonce too high) in every executed kind. */
const NONCE_GAP = 1_000_000;

type PlannerSettings = Required<Omit<BundlePlannerOptions, 'chainId' | 'window'>> &
  Pick<BundlePlannerOptions, 'chainId' | 'window'>;

/** The bundle-signing key of a demo account (not its transfer or EVM key). */
export function bundleSignerFor(account: number): Ed25519Signer {
  return new Ed25519Signer(sha256(new TextEncoder().encode(`ordo-demo-bundle-signer/${account}`)));
}

export class BundlePlanner {
  readonly #o: PlannerSettings;
  readonly #executed: BundleRollup[];
  /** Next nonce per `${namespace}/${account}`. */
  readonly #nonces = new Map<string, number>();
  /**
   * `${namespace}/${account}` with a bundle in flight → that bundle's id (the slot is reused only after
   * that bundle settled). Bundles built to fail never hold a slot: their gapped leg is invalid, so
   * neither they nor a later bundle at the same nonces can be blocked by them (ADR 0351).
   */
  readonly #busy = new Map<string, number>();
  readonly #signers = new Map<number, Ed25519Signer>();
  readonly #commons = new Map<number, ReturnType<typeof createCustomCommon>>();
  readonly #bundleSigners = new Map<number, Ed25519Signer>();
  #id = 0;
  /** Where the search for a free sender starts (round robin). */
  #cursor = 0;

  constructor(o: BundlePlannerOptions) {
    this.#o = { crossShare: 0.5, failShare: 0.1, amount: 1n, ...o };
    this.#executed = o.rollups.filter((r) => r.kind === 'transfer' || r.kind === 'evm');
    if (this.#executed.length === 0) throw new RangeError('bundle load needs at least one executed rollup');
    if (o.accounts.length === 0) throw new RangeError('bundle load needs at least one sender account');
    for (const r of this.#executed)
      if (r.kind === 'evm' && r.evmChainId === undefined)
        throw new RangeError(`evm rollup ${r.namespace} has no evmChainId`);
  }

  /**
   * The next bundle, or undefined when no sender is free in the rollups it would touch. A sender is busy
   * per rollup (its nonce there is in flight), so one account can back bundles in different rollups.
   */
  next(): PlannedBundle | undefined {
    const cross = this.#executed.length > 1 && this.#o.random() < this.#o.crossShare;
    const builtToFail = this.#o.random() < this.#o.failShare;
    const first = Math.floor(this.#o.random() * this.#executed.length);
    const picked = [this.#executed[first]!];
    if (cross) picked.push(this.#executed[(first + 1) % this.#executed.length]!);
    picked.sort((a, b) => a.namespace - b.namespace);
    // Round robin over the free senders, from the one after the last used: the first free one by index
    // was, most of the time, the sender whose previous bundle was pre-confirmed a moment ago, so its next
    // bundle met proposers that had not executed the previous one yet (nonce too high → `unsure`, placed
    // a height later). Independent searchers do not all reuse the account they just freed.
    const accounts = this.#o.accounts;
    let account: number | undefined;
    for (let k = 0; k < accounts.length && account === undefined; k++) {
      const a = accounts[(this.#cursor + k) % accounts.length]!;
      if (picked.every((r) => !this.#busy.has(`${r.namespace}/${a}`))) {
        account = a;
        this.#cursor = (this.#cursor + k + 1) % accounts.length;
      }
    }
    if (account === undefined) return undefined;
    const id = this.#id++;
    const failing = builtToFail ? Math.floor(this.#o.random() * picked.length) : -1;
    const legs = picked.map((r, i) => {
      const nonce = this.#nonces.get(`${r.namespace}/${account}`) ?? 0;
      const leg = this.#leg(r, account, i === failing ? nonce + NONCE_GAP : nonce, this.#o.amount, id);
      return { ...leg, nonce };
    });
    // A bundle built to fail leaves its senders free at once: one leg's nonce is NONCE_GAP ahead, so the
    // bundle can never apply (execution atomicity: all legs or none) and spends no nonce; the next bundle
    // of these senders takes the same nonces. Holding the slots until the pool drops it at its maxHeight
    // (~30 heights) kept a tenth of the bundles from being sent (session 16's `shortfall`).
    if (!builtToFail) for (const r of picked) this.#busy.set(`${r.namespace}/${account}`, id);
    const w = this.#o.window;
    const maxHeight = w === undefined ? 0 : w.height() + w.heights;
    const planned: PlannedBundle = { id, cross, builtToFail, legs, maxHeight };
    if (this.#o.chainId !== undefined) this.#sign(planned, account, this.#o.chainId);
    return planned;
  }

  #sign(b: PlannedBundle, account: number, chainId: string): void {
    let signer = this.#bundleSigners.get(account);
    if (signer === undefined) {
      signer = bundleSignerFor(account);
      this.#bundleSigners.set(account, signer);
    }
    const hash = bundleHash(chainId, domainBundle(b, signer.publicKey));
    b.signer = signer.publicKey;
    b.signature = signer.sign(bundleSignBytes(hash));
  }

  /**
   * The bundle's fate is known: applied spends its senders' nonces; anything else leaves them. Frees only
   * the slots this bundle holds: a bundle built to fail holds none, and settling it (dropped, typically
   * 30 heights on) must not free a slot a later bundle of the same sender now holds. (Applied is never
   * expected for a bundle built to fail — the atomicity check counts it as a violation — but the nonces
   * then follow the chain.)
   */
  settled(b: PlannedBundle, applied: boolean): void {
    for (const l of b.legs) {
      const key = `${l.namespace}/${l.account}`;
      if (applied) this.#nonces.set(key, l.nonce + 1);
      if (this.#busy.get(key) === b.id) this.#busy.delete(key);
    }
  }

  /** Sender accounts, sender slots (account × executed rollup), and the slots bundles in flight hold now. */
  get slots(): { accounts: number; total: number; busy: number } {
    const accounts = this.#o.accounts.length;
    return { accounts, total: accounts * this.#executed.length, busy: this.#busy.size };
  }

  #leg(r: BundleRollup, account: number, nonce: number, amount: bigint, id: number): PlannedLeg {
    const seed = sha256(
      new TextEncoder().encode(`ordo-bundle-recipient/${this.#o.runId}/${id}/${r.namespace}`),
    );
    if (r.kind === 'transfer') {
      let signer = this.#signers.get(account);
      if (signer === undefined) {
        signer = transferSigner(demoTransferSeed(account));
        this.#signers.set(account, signer);
      }
      // A recipient only this leg pays: any 32 bytes name a transfer account; deriving a key pair per
      // leg (as before) cost two ed25519 key imports per bundle in the generator.
      const to = seed;
      const tx = signTransfer(signer, r.namespace, { to, amount, fee: 1n, nonce: BigInt(nonce) });
      return { namespace: r.namespace, tx, recipient: toHex(to), amount, account, nonce };
    }
    let common = this.#commons.get(r.evmChainId!);
    if (common === undefined) {
      common = createCustomCommon({ chainId: r.evmChainId! }, Mainnet, {
        hardfork: Hardfork.Prague,
        customCrypto: evmSigningCrypto,
      });
      this.#commons.set(r.evmChainId!, common);
    }
    // Likewise any 20 bytes name an EVM account; no secp256k1 key derivation per leg.
    const to = `0x${toHex(seed.subarray(0, 20))}` as `0x${string}`;
    const tx = createFeeMarket1559Tx(
      {
        nonce: BigInt(nonce),
        to,
        value: amount,
        gasLimit: 21_000n,
        maxFeePerGas: 3_000_000_000n,
        maxPriorityFeePerGas: 0n,
      },
      { common },
    )
      .sign(demoEvmKey(account))
      .serialize();
    return { namespace: r.namespace, tx, recipient: to, amount, account, nonce };
  }
}

/** The domain bundle a node builds from `sendBundleParams(b)` (execution atomicity: executed legs only). */
function domainBundle(b: PlannedBundle, signer: Uint8Array) {
  return canonicalBundle({
    legs: b.legs.map((l) => ({ namespace: l.namespace, txs: [l.tx], revertingTxHashes: [] })),
    atomicity: 'execution',
    minHeight: 0,
    maxHeight: b.maxHeight ?? 0,
    replacementUuid: new Uint8Array(0),
    signer,
    signature: new Uint8Array(0),
  });
}

export interface SendBundleParams {
  legs: { namespace: number; txs: string[] }[];
  maxHeight?: number;
  signer?: string;
  signature?: string;
}

/** `ordo_sendBundle`'s params for a planned bundle (atomicity defaults to execution: executed legs only). */
export function sendBundleParams(b: PlannedBundle): [SendBundleParams] {
  const p: SendBundleParams = {
    legs: b.legs.map((l) => ({ namespace: l.namespace, txs: [`0x${toHex(l.tx)}`] })),
  };
  if ((b.maxHeight ?? 0) > 0) p.maxHeight = b.maxHeight;
  if (b.signer !== undefined && b.signature !== undefined) {
    p.signer = `0x${toHex(b.signer)}`;
    p.signature = `0x${toHex(b.signature)}`;
  }
  return [p];
}

export interface AtomicityReport {
  bundles: number;
  /** Every leg's effect present. */
  applied: number;
  /** No leg's effect present. */
  none: number;
  /** Some legs applied and others not, or a bundle built to fail that applied. Must be 0. */
  violations: number;
  /** Up to 20 violating bundles, for the report. */
  examples: { id: number; legs: { namespace: number; applied: boolean }[] }[];
}

/**
 * Judges every bundle from its legs' effects, read back from each rollup after the run: `balanceOf`
 * answers the recipient's balance in that rollup (0 when absent).
 */
export function checkAtomicity(
  bundles: PlannedBundle[],
  balanceOf: (namespace: number, recipient: string) => bigint,
): AtomicityReport {
  const r: AtomicityReport = { bundles: bundles.length, applied: 0, none: 0, violations: 0, examples: [] };
  for (const b of bundles) {
    const legs = b.legs.map((l) => ({
      namespace: l.namespace,
      applied: balanceOf(l.namespace, l.recipient) >= l.amount,
    }));
    const n = legs.filter((l) => l.applied).length;
    const partial = n > 0 && n < legs.length;
    const failedButApplied = b.builtToFail && n === legs.length;
    if (partial || failedButApplied) {
      r.violations++;
      if (r.examples.length < 20) r.examples.push({ id: b.id, legs });
    } else if (n === legs.length) r.applied++;
    else r.none++;
  }
  return r;
}
