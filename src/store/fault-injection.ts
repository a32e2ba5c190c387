/**
 * Fault injection for the fault matrix and the e2e tests (issue #25 item 9): damage chosen heights of a
 * store the way a bad disk does — a block entry vanishes, a certificate's bytes are garbled so its
 * checksum fails — through the store's own write path, so a test needs no knowledge of the key layout.
 * Never called by a node.
 */
import type { EngineBlockStore } from './block-store.ts';
import { blockKey, certKey } from './keys.ts';

export interface InjectedDamage {
  /** Heights whose block entry is deleted. */
  deleteBlocks?: number[];
  /** Heights whose certificate is overwritten with bytes that fail the checksum. */
  garbleCertificates?: number[];
}

export async function injectDamage(store: EngineBlockStore, d: InjectedDamage): Promise<void> {
  await store.writeBatch([
    ...(d.deleteBlocks ?? []).map((h) => ({ key: blockKey(h), value: undefined })),
    ...(d.garbleCertificates ?? []).map((h) => ({ key: certKey(h), value: new Uint8Array(96).fill(0x5a) })),
  ]);
}
