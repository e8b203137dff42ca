// Seeded randomness (pure-rand), so a failing simulation or test replays from its seed.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** Normal with mean 0 and the given standard deviation. */
  gaussian(sigma: number): number;
  pick<T>(items: readonly T[]): T;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

export function seededRandom(seed: number): Random {
  const rng = xoroshiro128plus(seed);
  const next = (): number => uniformFloat64(rng);
  // xoroshiro's first outputs from a small seed are far from uniform (seed 3 gave a 5-sigma
  // Gaussian first); discarding a few mixes the state.
  for (let i = 0; i < 32; i++) next();
  return {
    next,
    between: (min, max) => min + (max - min) * next(),
    gaussian: (sigma) => {
      // Box-Muller; 1 - u keeps the logarithm finite.
      const u = 1 - next();
      const v = next();
      return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    int: (n) => Math.floor(next() * n),
  };
}
