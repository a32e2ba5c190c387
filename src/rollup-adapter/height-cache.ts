/**
 * A small per-height cache of loaded values (results trees, auction outcome trees), shared by every
 * stream of one adapter: the newest few heights are kept; a miss (undefined: not there yet) is not
 * kept, so a later call loads again.
 */
export class HeightCache<T> {
  readonly #entries = new Map<number, Promise<T | undefined>>();
  readonly #max: number;

  constructor(max = 4) {
    this.#max = max;
  }

  get(height: number, load: () => Promise<T | undefined>): Promise<T | undefined> {
    let e = this.#entries.get(height);
    if (e === undefined) {
      e = load();
      this.#entries.set(height, e);
      void e.then(
        (x) => {
          if (x === undefined) this.#entries.delete(height);
        },
        () => this.#entries.delete(height),
      );
      while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    }
    return e;
  }
}
