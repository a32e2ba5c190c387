/**
 * Ethereum JSON-RPC value encoding: hex quantities and data out, and strict parsing of every parameter
 * shape in (addresses, hashes, quantities, block tags, call objects, filter objects). Every parse
 * failure throws -32602 naming the parameter and what was wrong, so a malformed request never reaches
 * the executor and never crashes the node.
 */
import { invalidParams } from '../rpc/index.ts';

export const ZERO32 = new Uint8Array(32);

/** `0x`-prefixed quantity without leading zeros (Ethereum's QUANTITY encoding). */
export function qty(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** `0x`-prefixed unformatted data (Ethereum's DATA encoding). */
export function data(b: Uint8Array): string {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;
}

const HEX_RE = /^0x[0-9a-fA-F]*$/;

export function parseQuantity(v: unknown, what: string, max: bigint = (1n << 256n) - 1n): bigint {
  // Some clients send leading zeros (0x01); accept them, but nothing that is not hex.
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(v))
    throw invalidParams(`${what} must be a 0x-prefixed hex quantity (e.g. "0x1"), got ${describe(v)}`);
  const n = BigInt(v);
  if (n > max) throw invalidParams(`${what} ${v} exceeds ${qty(max)}`);
  return n;
}

export function parseData(v: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof v !== 'string' || !HEX_RE.test(v) || v.length % 2 !== 0)
    throw invalidParams(`${what} must be 0x-prefixed hex with an even number of digits, got ${describe(v)}`);
  if ((v.length - 2) / 2 > maxBytes) throw invalidParams(`${what} is longer than ${maxBytes} bytes`);
  return new Uint8Array(Buffer.from(v.slice(2), 'hex'));
}

export function parseAddress(v: unknown, what = 'address'): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v))
    throw invalidParams(`${what} must be a 0x-prefixed 20-byte hex address, got ${describe(v)}`);
  return new Uint8Array(Buffer.from(v.slice(2), 'hex'));
}

export function parseHash32(v: unknown, what = 'hash'): Uint8Array {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(v))
    throw invalidParams(`${what} must be a 0x-prefixed 32-byte hex string, got ${describe(v)}`);
  return new Uint8Array(Buffer.from(v.slice(2), 'hex'));
}

export function parseBool(v: unknown, what: string, dflt?: boolean): boolean {
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'boolean') throw invalidParams(`${what} must be a boolean, got ${describe(v)}`);
  return v;
}

/** A block selector: a tag, a number, or (EIP-1898) {blockNumber} / {blockHash}. */
export type BlockRef =
  | { tag: 'latest' | 'pending' | 'earliest' | 'safe' | 'finalized' }
  | { number: number }
  | { hash: Uint8Array };

const TAGS = new Set(['latest', 'pending', 'earliest', 'safe', 'finalized']);

export function parseBlockRef(v: unknown, what = 'block', dflt: BlockRef = { tag: 'latest' }): BlockRef {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'string') {
    if (TAGS.has(v)) return { tag: v as 'latest' };
    if (/^0x[0-9a-fA-F]{1,13}$/.test(v) && BigInt(v) <= BigInt(Number.MAX_SAFE_INTEGER))
      return { number: Number(BigInt(v)) };
  }
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (o.blockHash !== undefined) return { hash: parseHash32(o.blockHash, `${what}.blockHash`) };
    if (o.blockNumber !== undefined) return parseBlockRef(o.blockNumber, `${what}.blockNumber`);
  }
  throw invalidParams(
    `${what} must be a block number (hex), "latest", "pending", "earliest", "safe", "finalized" or {blockHash}, got ${describe(v)}`,
  );
}

export function parseObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw invalidParams(`${what} must be an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

/** What a call/estimate request asks for. */
export interface CallRequest {
  from?: Uint8Array;
  to?: Uint8Array;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  value?: bigint;
  data?: Uint8Array;
  nonce?: bigint;
}

const U64 = (1n << 64n) - 1n;

export function parseCallRequest(v: unknown, maxDataBytes: number, what = 'transaction'): CallRequest {
  const o = parseObject(v, what);
  const r: CallRequest = {};
  if (o.from !== undefined && o.from !== null) r.from = parseAddress(o.from, `${what}.from`);
  if (o.to !== undefined && o.to !== null) r.to = parseAddress(o.to, `${what}.to`);
  if (o.gas !== undefined && o.gas !== null) r.gas = parseQuantity(o.gas, `${what}.gas`, U64);
  if (o.gasPrice !== undefined && o.gasPrice !== null)
    r.gasPrice = parseQuantity(o.gasPrice, `${what}.gasPrice`);
  if (o.maxFeePerGas !== undefined && o.maxFeePerGas !== null)
    r.maxFeePerGas = parseQuantity(o.maxFeePerGas, `${what}.maxFeePerGas`);
  if (o.maxPriorityFeePerGas !== undefined && o.maxPriorityFeePerGas !== null)
    r.maxPriorityFeePerGas = parseQuantity(o.maxPriorityFeePerGas, `${what}.maxPriorityFeePerGas`);
  if (o.value !== undefined && o.value !== null) r.value = parseQuantity(o.value, `${what}.value`);
  if (o.nonce !== undefined && o.nonce !== null) r.nonce = parseQuantity(o.nonce, `${what}.nonce`, U64);
  const input = o.input ?? o.data;
  if (input !== undefined && input !== null) {
    r.data = parseData(input, `${what}.${o.input !== undefined ? 'input' : 'data'}`, maxDataBytes);
    if (o.input !== undefined && o.data !== undefined && o.data !== null && o.data !== o.input)
      throw invalidParams(`${what}.input and ${what}.data differ; send one of them`);
  }
  return r;
}

/** State overrides of eth_call (geth's shape): {address: {balance?, nonce?, code?, state? | stateDiff?}}. */
export interface AccountOverride {
  address: Uint8Array;
  balance?: bigint;
  nonce?: bigint;
  code?: Uint8Array;
  /** Replace all storage with these slots. */
  state?: [Uint8Array, Uint8Array][];
  /** Change only these slots. */
  stateDiff?: [Uint8Array, Uint8Array][];
}

export function parseStateOverrides(v: unknown, maxCodeBytes: number): AccountOverride[] {
  if (v === undefined || v === null) return [];
  const o = parseObject(v, 'state override set');
  const entries = Object.entries(o);
  if (entries.length > 256) throw invalidParams('state override set has more than 256 accounts');
  return entries.map(([addr, ov]) => {
    const what = `state override ${addr.slice(0, 42)}`;
    const a = parseObject(ov, what);
    const out: AccountOverride = { address: parseAddress(addr, `${what} key`) };
    for (const k of Object.keys(a)) {
      if (!['balance', 'nonce', 'code', 'state', 'stateDiff'].includes(k))
        throw invalidParams(`${what}: unknown field "${k.slice(0, 40)}"`);
    }
    if (a.balance !== undefined) out.balance = parseQuantity(a.balance, `${what}.balance`);
    if (a.nonce !== undefined) out.nonce = parseQuantity(a.nonce, `${what}.nonce`, U64);
    if (a.code !== undefined) out.code = parseData(a.code, `${what}.code`, maxCodeBytes);
    if (a.state !== undefined && a.stateDiff !== undefined)
      throw invalidParams(`${what}: state and stateDiff are mutually exclusive`);
    for (const field of ['state', 'stateDiff'] as const) {
      if (a[field] === undefined) continue;
      const slots = Object.entries(parseObject(a[field], `${what}.${field}`));
      if (slots.length > 4096) throw invalidParams(`${what}.${field} has more than 4096 slots`);
      out[field] = slots.map(([k, val]) => [
        parseHash32(k, `${what}.${field} slot`),
        parseHash32(val, `${what}.${field} value`),
      ]);
    }
    return out;
  });
}

/** A log filter (eth_getLogs, eth_newFilter, eth_subscribe "logs"). */
export interface LogFilter {
  fromBlock?: BlockRef;
  toBlock?: BlockRef;
  blockHash?: Uint8Array;
  /** Empty = any address. */
  addresses: Uint8Array[];
  /** Per position: null = any, else any of these. */
  topics: (Uint8Array[] | null)[];
}

export function parseLogFilter(v: unknown, what = 'filter', allowRange = true): LogFilter {
  const o = v === undefined ? {} : parseObject(v, what);
  const f: LogFilter = { addresses: [], topics: [] };
  if (o.blockHash !== undefined && o.blockHash !== null) {
    if (o.fromBlock !== undefined || o.toBlock !== undefined)
      throw invalidParams(`${what}: blockHash cannot be combined with fromBlock/toBlock`);
    f.blockHash = parseHash32(o.blockHash, `${what}.blockHash`);
  }
  if (allowRange) {
    if (o.fromBlock !== undefined && o.fromBlock !== null)
      f.fromBlock = parseBlockRef(o.fromBlock, `${what}.fromBlock`);
    if (o.toBlock !== undefined && o.toBlock !== null)
      f.toBlock = parseBlockRef(o.toBlock, `${what}.toBlock`);
  }
  const addr = o.address;
  if (addr !== undefined && addr !== null) {
    if (Array.isArray(addr)) {
      if (addr.length > 1000) throw invalidParams(`${what}.address lists more than 1000 addresses`);
      f.addresses = addr.map((a, i) => parseAddress(a, `${what}.address[${i}]`));
    } else f.addresses = [parseAddress(addr, `${what}.address`)];
  }
  const topics = o.topics;
  if (topics !== undefined && topics !== null) {
    if (!Array.isArray(topics) || topics.length > 4)
      throw invalidParams(`${what}.topics must be an array of at most 4 entries`);
    f.topics = topics.map((t, i) => {
      if (t === null) return null;
      if (Array.isArray(t)) {
        // An empty set at a position matches any topic there, as in geth (not no topic at all).
        if (t.length === 0) return null;
        if (t.length > 100) throw invalidParams(`${what}.topics[${i}] lists more than 100 topics`);
        return t.map((x, j) => parseHash32(x, `${what}.topics[${i}][${j}]`));
      }
      return [parseHash32(t, `${what}.topics[${i}]`)];
    });
  }
  return f;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 70 ? `${v.slice(0, 70)}…` : v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`;
}

/** Check that at most `max` positional params were sent, and that the required ones are present. */
export function arity(params: unknown[], min: number, max: number, shape: string): void {
  if (params.length < min || params.length > max)
    throw invalidParams(`expected ${shape}, got ${params.length} param${params.length === 1 ? '' : 's'}`);
}
