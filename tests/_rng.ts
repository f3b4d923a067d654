// Copyright 2026 the wal-db authors. MIT license.
// A small seeded pseudo-random generator for the simulation, fault and fuzz tests: the same seed
// gives the same sequence on every machine, so a failing seed replays exactly.

/** Outputs thrown away after seeding, so that close seeds do not start with close outputs. */
const WARM_UP_ROUNDS = 16;

/**
 * A 128-bit-state generator of the "small fast counting" family (add, rotate, xor, plus a
 * counter so that no seed falls into a short cycle). Not for cryptography.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #counter = 1;

  /** @param seed Any safe integer; the generator is a pure function of it. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`Rng seed must be a safe integer: ${seed}`);
    }
    this.#a = 0x9e37_79b9;
    this.#b = seed >>> 0;
    this.#c = Math.floor(seed / 2 ** 32) ^ 0x2545_f491;
    for (let i = 0; i < WARM_UP_ROUNDS; i++) this.next();
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    const result = (((this.#a + this.#b) | 0) + this.#counter) | 0;
    this.#counter = (this.#counter + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) + result | 0;
    return result >>> 0;
  }

  /** An integer in `[0, count)`; `count` must be a positive integer below 2^32. */
  below(count: number): number {
    if (!(count >= 1 && count <= 2 ** 32)) throw new RangeError(`below(${count}) needs 1..2^32`);
    return Math.floor((this.next() / 2 ** 32) * count);
  }

  /** An integer in `[min, max]`. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  /** True with the given chance out of 100. */
  chance(percent: number): boolean {
    return this.below(100) < percent;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick() needs a non-empty array");
    return items[this.below(items.length)]!;
  }

  /** A size drawn log-uniformly from `[min, max]`: small values as likely as large ones per octave. */
  logSize(min: number, max: number): number {
    const low = Math.log2(Math.max(1, min));
    const high = Math.log2(max + 1);
    const size = Math.floor(2 ** (low + (this.next() / 2 ** 32) * (high - low)));
    return Math.min(max, Math.max(min, size));
  }

  /** `size` random bytes. */
  bytes(size: number): Uint8Array {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i += 4) {
      const word = this.next();
      out[i] = word & 0xff;
      if (i + 1 < size) out[i + 1] = (word >>> 8) & 0xff;
      if (i + 2 < size) out[i + 2] = (word >>> 16) & 0xff;
      if (i + 3 < size) out[i + 3] = word >>> 24;
    }
    return out;
  }
}

/** Random first seeds of the CLI runners stay below this, so a printed seed is easy to type. */
const RANDOM_SEED_LIMIT = 2 ** 31;

/**
 * The seed a CLI runner starts from: `--seed` when given (it must be an integer), else a random
 * one, which the runner prints so a failure can be replayed.
 */
export function seedFrom(option: string | undefined): number {
  const seed = option === undefined
    ? Math.floor(Math.random() * RANDOM_SEED_LIMIT)
    : Number(option);
  if (!Number.isSafeInteger(seed)) throw new RangeError("--seed: an integer");
  return seed;
}
