/**
 * Small hand-assembled EVM contracts used by the executor's tests and benchmark (no compiler in the
 * toolchain). A ten-line assembler with labels keeps jump offsets honest.
 *
 * - `COUNTER`: call with a 32-byte word x: x = 0 → REVERT; otherwise slot0 += 1 and LOG1(topic x).
 * - `TOKEN`: a minimal ERC-20 balance ledger — `transfer(address,uint256)` (selector a9059cbb) with
 *   balances at slot = holder address, the standard Transfer event and `true` return, plus
 *   `airdrop(addresses…)` (selector 00000002) crediting 1e18 to each packed 32-byte address word.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';

type Item = string | { push: string } | { label: string } | { ref: string };

const OPS: Record<string, number> = {
  STOP: 0x00,
  ADD: 0x01,
  SUB: 0x03,
  LT: 0x10,
  GT: 0x11,
  EQ: 0x14,
  ISZERO: 0x15,
  SHR: 0x1c,
  CALLER: 0x33,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CODECOPY: 0x39,
  MSTORE: 0x52,
  SLOAD: 0x54,
  SSTORE: 0x55,
  JUMP: 0x56,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  DUP1: 0x80,
  DUP2: 0x81,
  DUP3: 0x82,
  DUP4: 0x83,
  DUP5: 0x84,
  SWAP1: 0x90,
  LOG1: 0xa1,
  LOG3: 0xa3,
  RETURN: 0xf3,
  REVERT: 0xfd,
};

/** Assemble: opcode names, {push: hex}, {label}, {ref: label} (PUSH2 of the label's offset). */
export function assemble(items: Item[]): Uint8Array {
  const labels = new Map<string, number>();
  const size = (it: Item): number =>
    typeof it === 'string' ? 1 : 'push' in it ? 1 + it.push.length / 2 : 'ref' in it ? 3 : 1;
  let pc = 0;
  for (const it of items) {
    if (typeof it === 'object' && 'label' in it) labels.set(it.label, pc);
    pc += size(it);
  }
  const out: number[] = [];
  for (const it of items) {
    if (typeof it === 'string') {
      const op = OPS[it];
      if (op === undefined) throw new Error(`unknown opcode ${it}`);
      out.push(op);
    } else if ('label' in it) {
      out.push(OPS.JUMPDEST!);
    } else if ('ref' in it) {
      const t = labels.get(it.ref);
      if (t === undefined) throw new Error(`unknown label ${it.ref}`);
      out.push(0x61, t >> 8, t & 0xff);
    } else {
      const n = it.push.length / 2;
      out.push(0x5f + n, ...Buffer.from(it.push, 'hex'));
    }
  }
  return new Uint8Array(out);
}

/** Init code that deploys `runtime` unchanged. */
export function deployCode(runtime: Uint8Array): Uint8Array {
  if (runtime.byteLength > 0xffff) throw new RangeError('runtime too large');
  const len = runtime.byteLength.toString(16).padStart(4, '0');
  // PUSH2 len, PUSH2 15, PUSH1 0, CODECOPY, PUSH2 len, PUSH1 0, RETURN = 15 bytes; runtime follows.
  const hdr = assemble([
    { push: len },
    { push: '000f' },
    { push: '00' },
    'CODECOPY',
    { push: len },
    { push: '00' },
    'RETURN',
  ]);
  if (hdr.byteLength !== 15) throw new Error('deploy header size changed');
  const out = new Uint8Array(15 + runtime.byteLength);
  out.set(hdr, 0);
  out.set(runtime, 15);
  return out;
}

export const COUNTER_RUNTIME = assemble([
  { push: '00' },
  'CALLDATALOAD',
  'DUP1',
  'ISZERO',
  { ref: 'fail' },
  'JUMPI',
  { push: '00' },
  'SLOAD',
  { push: '01' },
  'ADD',
  { push: '00' },
  'SSTORE',
  { push: '00' },
  { push: '00' },
  'LOG1',
  'STOP',
  { label: 'fail' },
  { push: '00' },
  { push: '00' },
  'REVERT',
]);

export const TRANSFER_TOPIC = keccak_256(new TextEncoder().encode('Transfer(address,address,uint256)'));

export const TOKEN_RUNTIME = assemble([
  { push: '00' },
  'CALLDATALOAD',
  { push: 'e0' },
  'SHR',
  'DUP1',
  { push: 'a9059cbb' },
  'EQ',
  { ref: 'xfer' },
  'JUMPI',
  { push: '02' },
  'EQ',
  { ref: 'airdrop' },
  'JUMPI',
  { push: '00' },
  'DUP1',
  'REVERT',
  // transfer(to, amt): stack [sel]
  { label: 'xfer' },
  { push: '24' },
  'CALLDATALOAD', // amt
  { push: '04' },
  'CALLDATALOAD', // to amt
  'CALLER', // from to amt
  'DUP1',
  'SLOAD', // bal from to amt
  'DUP1',
  'DUP5',
  'GT',
  { ref: 'fail' },
  'JUMPI', // amt > bal → fail
  'DUP4',
  'SWAP1',
  'SUB', // bal-amt from to amt
  'DUP2',
  'SSTORE', // from to amt
  'DUP2',
  'SLOAD',
  'DUP4',
  'ADD',
  'DUP3',
  'SSTORE', // from to amt
  'DUP3',
  { push: '00' },
  'MSTORE',
  { push: Buffer.from(TRANSFER_TOPIC).toString('hex') },
  { push: '20' },
  { push: '00' },
  'LOG3',
  { push: '01' },
  { push: '00' },
  'MSTORE',
  { push: '20' },
  { push: '00' },
  'RETURN',
  { label: 'fail' },
  { push: '00' },
  'DUP1',
  'REVERT',
  // airdrop(words…)
  { label: 'airdrop' },
  { push: '04' },
  { label: 'loop' },
  'CALLDATASIZE',
  'DUP2',
  'LT',
  'ISZERO',
  { ref: 'end' },
  'JUMPI',
  { push: '0de0b6b3a7640000' },
  'DUP2',
  'CALLDATALOAD',
  'SSTORE',
  { push: '20' },
  'ADD',
  { ref: 'loop' },
  'JUMP',
  { label: 'end' },
  'STOP',
]);

/** Calldata for TOKEN.transfer(to, amount). */
export function tokenTransferData(to: Uint8Array, amount: bigint): Uint8Array {
  const d = new Uint8Array(68);
  d.set([0xa9, 0x05, 0x9c, 0xbb], 0);
  d.set(to, 16);
  const a = Buffer.from(amount.toString(16).padStart(64, '0'), 'hex');
  d.set(a, 36);
  return d;
}

/** Calldata for TOKEN.airdrop(addresses). */
export function tokenAirdropData(addresses: Uint8Array[]): Uint8Array {
  const d = new Uint8Array(4 + 32 * addresses.length);
  d[3] = 2;
  for (let i = 0; i < addresses.length; i++) d.set(addresses[i]!, 4 + 32 * i + 12);
  return d;
}

/** A 32-byte word holding `n`. */
export function word(n: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
}
