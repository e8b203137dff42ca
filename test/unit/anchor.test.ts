// The checkpoint of steady running (server/core/anchor.ts): where a runner's pace leads when a
// reflection has pulled their estimate astray.
import { describe, expect, it } from 'vitest';
import { anchorExpectation, noteAnchor } from '../../server/core/anchor.ts';
import { defaultEngineOptions } from '../../server/core/engine-options.ts';
import { startProgress } from '../../server/core/progress-filter.ts';
import { initialRunnerState } from '../../server/core/runner-state.ts';

describe('the checkpoint of steady running', () => {
  it('takes the runner\'s pace over the last minutes when it is set afresh, not the speed of one estimate', () => {
    // A runner at 2.47 m/s whose estimate read 2.08 m/s at the fix the checkpoint was set on
    // (a stride, a corner): two minutes on, that speed would lead 50 m behind them, where a
    // reflection thrown back along the course then "agrees" with it.
    const runner = initialRunnerState('p1');
    runner.paceMps = 2.47;
    const atMs = 2_406_000;
    noteAnchor(runner, startProgress(6014, 36, atMs, 2.08, 0.3), defaultEngineOptions);
    expect(runner.anchorMps).toBe(2.47);
    const expected = anchorExpectation(runner, defaultEngineOptions, atMs + 130_000)!;
    expect(expected.expectedM).toBeCloseTo(6014 + 2.47 * 130, 6);
  });

  it('takes the estimate\'s speed for a runner whose pace is not known yet', () => {
    const runner = initialRunnerState('p1');
    noteAnchor(runner, startProgress(300, 36, 90_000, 3.1, 0.3), defaultEngineOptions);
    expect(runner.anchorMps).toBe(3.1);
  });
});
