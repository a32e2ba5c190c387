/**
 * TEST DOUBLE: a crash-safe enough file-backed `BlockStore` for kill -9 tests of the engine. Each
 * commit appends one line (hex of the encoded certified block) and fsyncs; a torn last line is ignored
 * on open. Everything else behaves like MemoryBlockStore.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { decodeCertifiedBlock, encodeCertifiedBlock } from '../../codec/index.ts';
import type { Block, CommitCertificate } from '../../types.ts';
import { MemoryBlockStore } from './memory-store.ts';

export class FileBlockStore extends MemoryBlockStore {
  readonly path: string;
  #fd = -1;

  constructor(path: string) {
    super();
    this.path = path;
  }

  override async open(): Promise<void> {
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (line.length === 0) continue;
        try {
          const cb = decodeCertifiedBlock(new Uint8Array(Buffer.from(line, 'hex')));
          if (cb.block.header.height !== this.height() + 1) break;
          await super.commitBlock(cb.block, cb.certificate);
        } catch {
          break; // torn last line
        }
      }
    }
    this.#fd = openSync(this.path, 'a');
  }

  override async close(): Promise<void> {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  override async commitBlock(block: Block, cert: CommitCertificate): Promise<void> {
    const line = `${Buffer.from(encodeCertifiedBlock({ block, certificate: cert })).toString('hex')}\n`;
    writeSync(this.#fd, line);
    fsyncSync(this.#fd);
    await super.commitBlock(block, cert);
  }
}
