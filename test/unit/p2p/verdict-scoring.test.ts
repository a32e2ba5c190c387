/**
 * Unit tests for the pieces every p2p path shares: verdict mapping from typed errors and admission
 * results, the application score book (penalties, decay, thresholds, bans) and config validation.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError, OrdoError } from '../../../src/errors.ts';
import { DEFAULT_SCORING, resolveLimits, resolveScoring } from '../../../src/p2p/config.ts';
import { AppScoreBook } from '../../../src/p2p/scoring.ts';
import { verdictForBatch, verdictForCode, verdictForError } from '../../../src/p2p/verdict.ts';

describe('verdict mapping', () => {
  it('rejects decode failures and invalid content, ignores local conditions and unknown errors', () => {
    expect(verdictForError(new DecodeError('DECODE_TOO_LARGE', 'x'))).toBe('reject');
    expect(verdictForError(new DecodeError('DECODE_MALFORMED', 'x'))).toBe('reject');
    expect(verdictForError(new OrdoError('GOSSIP_TOO_LARGE', 'x'))).toBe('reject');
    expect(verdictForError(new DecodeError('DECODE_EMPTY', 'x'))).toBe('reject');
    expect(verdictForCode('INVALID_TX')).toBe('reject');
    expect(verdictForError(new OrdoError('MEMPOOL_FULL', 'x'))).toBe('ignore');
    expect(verdictForError(new OrdoError('SOMETHING_NEW', 'x'))).toBe('ignore');
    expect(verdictForError(new TypeError('bug in our code'))).toBe('ignore');
    expect(verdictForCode('DUPLICATE')).toBe('ignore');
  });

  it('maps a batch from its admission results', () => {
    const ok = { ok: true as const, hash: new Uint8Array(32) };
    const dup = { ok: false as const, code: 'DUPLICATE' as const, message: '', retryable: false };
    const bad = { ok: false as const, code: 'INVALID_TX' as const, message: '', retryable: false };
    const full = { ok: false as const, code: 'MEMPOOL_FULL' as const, message: '', retryable: true };
    expect(verdictForBatch([ok, dup])).toBe('accept');
    expect(verdictForBatch([dup, full])).toBe('ignore');
    expect(verdictForBatch([ok, bad])).toBe('reject');
  });
});

describe('AppScoreBook', () => {
  it('penalises, graylists, asks for disconnection, and decays back', () => {
    let now = 0;
    const book = new AppScoreBook(DEFAULT_SCORING, () => now);
    expect(book.score('p')).toBe(0);
    book.penalise('p', 'invalid-message', 5);
    expect(book.score('p')).toBe(-50);
    expect(book.isGraylisted('p')).toBe(false);
    book.penalise('p', 'spam');
    expect(book.isGraylisted('p')).toBe(true);
    expect(book.shouldDisconnect('p')).toBe(false);
    book.penalise('p', 'invalid-message', 3);
    expect(book.shouldDisconnect('p')).toBe(true);
    now += DEFAULT_SCORING.decayIntervalMs * 30;
    expect(book.score('p')).toBeGreaterThan(-5);
    expect(book.isGraylisted('p')).toBe(false);
  });

  it('bans for banMs', () => {
    let now = 0;
    const book = new AppScoreBook(DEFAULT_SCORING, () => now);
    book.ban('p');
    expect(book.isBanned('p')).toBe(true);
    expect(book.isGraylisted('p')).toBe(true);
    now += DEFAULT_SCORING.banMs;
    expect(book.isBanned('p')).toBe(false);
  });
});

describe('p2p config', () => {
  it('fills defaults and names the bad field', () => {
    expect(resolveLimits({ maxGossipBytes: { txs: 1000 } }).maxGossipBytes).toMatchObject({ txs: 1000 });
    expect(() => resolveLimits({ maxGossipBytes: { consensus: -1 } })).toThrow(/maxGossipBytes.consensus/);
    expect(() => resolveLimits({ maxTxBytes: 10 * 1024 * 1024 })).toThrow(/maxTxBytes/);
    expect(() => resolveScoring({ penalties: { spam: 3 } })).toThrow(/penalties.spam/);
    expect(() => resolveScoring({ disconnectThreshold: 0 })).toThrow(/disconnectThreshold/);
    expect(() => resolveScoring({ decayFactor: 1 })).toThrow(/decayFactor/);
  });
});
