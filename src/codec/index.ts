/**
 * The codec component's public surface: the protobuf wire format (proto/) as typed encode/decode
 * functions with size checks before every decode (codec.ts), the hashes and sign-bytes every node
 * must agree on (hashing.ts), bundles' canonical bytes and pre-confirmations (bundle.ts, preconf.ts),
 * the header commitments (commitments.ts: data, results, "no auction"; auction.ts: the outcome of an
 * auction that ran), the EVM block gas limit rule (evm-gas.ts), the protocol's size limits (limits.ts), and the loaded protobuf types (proto.ts)
 * with the shapes of the messages it decodes (wire-types.ts).
 */
export * from './auction.ts';
export * from './bundle.ts';
export * from './codec.ts';
export * from './commitments.ts';
export * from './evm-gas.ts';
export * from './hashing.ts';
export * from './limits.ts';
export * from './preconf.ts';
export * from './proto.ts';
export type * from './wire-types.ts';
