/**
 * Bundle gossip (issue #22): admitted bundles and signed cancels travel on one topic, `bundles`, in a
 * one-byte envelope — 0x01 || BundleBatch (protobuf, src/codec) or 0x02 || cancel (16-byte replacement
 * UUID || 32-byte signer || 64-byte signature). A bundle always travels whole inside its batch. Received
 * messages are size-checked before decoding; every bundle goes through the pool's admission with source
 * `gossip` and every cancel through the pool's cancel, so other proposers stop including a cancelled
 * bundle. Verdicts: a batch that does not decode or holds a bundle invalid for every node is rejected
 * and penalises the forwarder (like bad tx batches); one with nothing new is ignored (not forwarded).
 *
 * Admitted bundles are batched (ADR 0336): `push` collects them and one message leaves `flushMs` after
 * the first (default 15 ms), or at once when the batch holds `maxBundles` bundles or `maxBytes` encoded
 * bytes. Each gossip message costs every node per-message work whatever it carries (message id hashing,
 * gossipsub's seen cache and IDONTWANTs, a Noise frame and a socket write per peer, the validator), and
 * under bench:bundles one message per bundle made bundle messages most of the gossip. A cancel flushes
 * the pending batch first, so it never overtakes the bundle it cancels. `flushMs: 0` sends each bundle
 * on its own, as before.
 */
import pino, { type Logger } from 'pino';
import { decodeBundleBatch, encodeBundleBatch, LIMITS } from '../codec/index.ts';
import { errorMessage } from '../errors.ts';
import type { Bundle } from '../types.ts';
import type { Network, PeerId, Verdict } from './network.ts';
import { verdictForError } from './verdict.ts';

const KIND_BUNDLES = 1;
const KIND_CANCEL = 2;
const CANCEL_BYTES = 1 + 16 + 32 + 64;
/** The largest message on the topic: the envelope byte and a batch at the protocol limit. */
export const MAX_BUNDLE_GOSSIP_BYTES = 1 + LIMITS.maxBatchBytes;

export interface GossipBundleCancel {
  replacementUuid: Uint8Array;
  signer: Uint8Array;
  signature: Uint8Array;
}

/** Codes for which a gossiped bundle or cancel is the sender's fault (invalid for every node). */
const SENDER_FAULT = new Set([
  'BUNDLE_MALFORMED',
  'UNKNOWN_NAMESPACE',
  'BUNDLE_TOO_LARGE',
  'INVALID_TX',
  'REVERTING_HASH_UNKNOWN',
  'ATOMICITY_UNSUPPORTED',
  'BAD_SIGNATURE',
]);

type Answer = { ok: true } | { ok: false; code: string };

export interface BundleGossipOptions {
  network: Network;
  /** Admission of a received bundle (source `gossip`). */
  admit: (bundle: Bundle, from: PeerId) => Answer;
  /** A received cancel. */
  cancel: (req: GossipBundleCancel, from: PeerId) => Answer;
  logger?: Logger;
  /** Publish a batch this long after its first bundle (ms, default 15; 0 = each bundle at once). */
  flushMs?: number;
  /** Publish at once when the batch holds this many bundles (default 64). */
  maxBundles?: number;
  /** Publish at once when the batch's encoded bundles reach this many bytes (default 256 KiB). */
  maxBytes?: number;
}

/** Defaults of the batching (ADR 0336). */
export const BUNDLE_GOSSIP_FLUSH_MS = 15;
export const BUNDLE_GOSSIP_MAX_BUNDLES = 64;
export const BUNDLE_GOSSIP_MAX_BYTES = 256 * 1024;

/** A bundle's payload bytes, the batch's size bound (its encoding adds hashes, keys and framing). */
function bundleBytes(b: Bundle): number {
  let n = 200;
  for (const l of b.legs) {
    n += 16 + 32 * l.revertingTxHashes.length;
    for (const tx of l.txs) n += tx.byteLength + 8;
  }
  return n;
}

export class BundleGossip {
  readonly #network: Network;
  readonly #opts: BundleGossipOptions;
  readonly #log: Logger;
  #stopped = false;
  readonly #flushMs: number;
  readonly #maxBundles: number;
  readonly #maxBytes: number;
  #batch: Bundle[] = [];
  #batchBytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: BundleGossipOptions) {
    this.#network = opts.network;
    this.#opts = opts;
    this.#flushMs = Math.max(0, opts.flushMs ?? BUNDLE_GOSSIP_FLUSH_MS);
    this.#maxBundles = Math.max(
      1,
      Math.min(LIMITS.maxBundleBatch, opts.maxBundles ?? BUNDLE_GOSSIP_MAX_BUNDLES),
    );
    // Well under the protocol's batch limit, which a receiver enforces on the whole message.
    this.#maxBytes = Math.max(
      1,
      Math.min(LIMITS.maxBatchBytes / 2, opts.maxBytes ?? BUNDLE_GOSSIP_MAX_BYTES),
    );
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'bundle-gossip' });
    this.#network.subscribe('bundles', (msg) => this.#onMessage(msg.from, msg.data));
  }

  /** Gossip one admitted bundle (whole, in the next batch). */
  push(bundle: Bundle): void {
    if (this.#stopped) return;
    const size = bundleBytes(bundle);
    if (this.#batch.length > 0 && this.#batchBytes + size > this.#maxBytes) this.flush();
    this.#batch.push(bundle);
    this.#batchBytes += size;
    if (this.#flushMs === 0 || this.#batch.length >= this.#maxBundles || this.#batchBytes >= this.#maxBytes)
      this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  /** Publish the pending batch now (nothing when it is empty). */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const bundles = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    const body = encodeBundleBatch(bundles);
    const msg = new Uint8Array(1 + body.byteLength);
    msg[0] = KIND_BUNDLES;
    msg.set(body, 1);
    this.#publish(msg);
  }

  /** Gossip one accepted cancel. */
  pushCancel(req: GossipBundleCancel): void {
    if (
      req.replacementUuid.byteLength !== 16 ||
      req.signer.byteLength !== 32 ||
      req.signature.byteLength !== 64
    )
      return;
    // The bundle a cancel names may still wait in the batch: it goes first.
    this.flush();
    const msg = new Uint8Array(CANCEL_BYTES);
    msg[0] = KIND_CANCEL;
    msg.set(req.replacementUuid, 1);
    msg.set(req.signer, 17);
    msg.set(req.signature, 49);
    this.#publish(msg);
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#stopped = true;
  }

  #publish(msg: Uint8Array): void {
    if (this.#stopped) return;
    this.#network.publish('bundles', msg).catch((err: unknown) => {
      this.#log.warn({ err: errorMessage(err), bytes: msg.byteLength }, 'bundle gossip publish failed');
    });
  }

  #onMessage(from: PeerId, data: Uint8Array): Verdict {
    if (data.byteLength === 0 || data.byteLength > MAX_BUNDLE_GOSSIP_BYTES) return 'reject';
    if (data[0] === KIND_CANCEL) {
      if (data.byteLength !== CANCEL_BYTES) return 'reject';
      const req = {
        replacementUuid: data.slice(1, 17),
        signer: data.slice(17, 49),
        signature: data.slice(49, 113),
      };
      return verdictOf([this.#call(() => this.#opts.cancel(req, from))]);
    }
    if (data[0] !== KIND_BUNDLES) return 'reject';
    let bundles: Bundle[];
    try {
      bundles = decodeBundleBatch(data.subarray(1));
    } catch (err) {
      return verdictForError(err);
    }
    return verdictOf(bundles.map((b) => this.#call(() => this.#opts.admit(b, from))));
  }

  #call(f: () => Answer): Answer {
    try {
      return f();
    } catch (err) {
      this.#log.error({ err: errorMessage(err) }, 'bundle admission threw');
      return { ok: false, code: 'INTERNAL' };
    }
  }
}

/** Any bundle invalid for every node rejects the message; nothing new: ignore; else accept. */
function verdictOf(answers: Answer[]): Verdict {
  let added = 0;
  for (const a of answers) {
    if (a.ok) added++;
    else if (SENDER_FAULT.has(a.code)) return 'reject';
  }
  return added > 0 ? 'accept' : 'ignore';
}
