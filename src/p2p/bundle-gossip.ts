/**
 * Bundle gossip (issue #22): admitted bundles and signed cancels travel on one topic, `bundles`, in a
 * one-byte envelope — 0x01 || BundleBatch (protobuf, src/codec) or 0x02 || cancel (16-byte replacement
 * UUID || 32-byte signer || 64-byte signature). A bundle always travels whole inside its batch. Received
 * messages are size-checked before decoding; every bundle goes through the pool's admission with source
 * `gossip` and every cancel through the pool's cancel, so other proposers stop including a cancelled
 * bundle. Verdicts: a batch that does not decode or holds a bundle invalid for every node is rejected
 * and penalises the forwarder (like bad tx batches); one with nothing new is ignored (not forwarded).
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
}

export class BundleGossip {
  readonly #network: Network;
  readonly #opts: BundleGossipOptions;
  readonly #log: Logger;
  #stopped = false;

  constructor(opts: BundleGossipOptions) {
    this.#network = opts.network;
    this.#opts = opts;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'bundle-gossip' });
    this.#network.subscribe('bundles', (msg) => this.#onMessage(msg.from, msg.data));
  }

  /** Gossip one admitted bundle (whole, in a batch of its own). */
  push(bundle: Bundle): void {
    const body = encodeBundleBatch([bundle]);
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
    const msg = new Uint8Array(CANCEL_BYTES);
    msg[0] = KIND_CANCEL;
    msg.set(req.replacementUuid, 1);
    msg.set(req.signer, 17);
    msg.set(req.signature, 49);
    this.#publish(msg);
  }

  stop(): void {
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
