// The course engine's accuracy targets, on seeded scenarios of the evaluation
// (`npm run sim -- accuracy` prints the whole table). Deterministic: no timing involved.
import { describe, expect, it } from 'vitest';
import { runScenario, scenarios } from '../../simulations/accuracy.ts';

const scenario = (name: string) => {
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
};

describe('course engine accuracy', () => {
  // The scenarios that met every target on 20 of 20 seeds (`npm run sim -- accuracy --seeds 20`);
  // docs/COURSE-ENGINE.md lists those that do not, and how often they miss.
  it.each([
    ['out-and-back-15m-noise-8m', 12],
    ['park-loop-700m-x46', 13],
    ['stadium-track-400m-x25', 14],
    ['urban-canyon-outliers', 15],
    ['gaps-60-600s', 16],
    ['marathon-fix-every-10s', 17],
    ['leaves-course-and-returns', 18],
    ['stops', 19],
    ['park-loop-leaves-and-returns', 22],
  ] as const)('meets the targets on %s (seed %i)', (name, seed) => {
    const { engine } = runScenario(scenario(name), seed, 1);
    expect(engine.within20Share).toBeGreaterThanOrEqual(0.995);
    if (engine.lapsExactShare !== null) expect(engine.lapsExactShare).toBe(1);
    expect(engine.falseFinishes).toBe(0);
    expect(engine.backwardSteps).toBe(0);
    expect(engine.finishedRunners).toBe(engine.runners);
  });

  it('beats the naive whole-line snap where it fails: laps on a loop, legs of an out-and-back', () => {
    const loop = runScenario(scenario('park-loop-700m-x46'), 21, 100);
    expect(loop.naive.lapsExactShare!).toBeLessThan(0.2);
    expect(loop.engine.lapsExactShare).toBe(1);
    const legs = runScenario(scenario('out-and-back-10m-noise-12m'), 22, 200);
    expect(legs.naive.within20Share).toBeLessThan(0.9);
    expect(legs.engine.within20Share).toBeGreaterThan(legs.naive.within20Share);
  });
});
