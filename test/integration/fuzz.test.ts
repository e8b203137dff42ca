// The seeded fuzz suite (test/support/fuzz.ts): 20,000 inputs across every HTTP route and every
// Socket.IO event of both namespaces, valid, mutated and junk, against the real server on a real
// port. No crash, no 5xx, only documented codes, and no state change after a refused input.
// FUZZ_SEED replays a run (the seed is printed at the start and with every failure); FUZZ_INPUTS
// changes its length. The long run is `npm run fuzz -- --inputs 200000`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FUZZ_SEED, formatReport, runFuzz, startFuzzTarget, type FuzzTarget } from '../support/fuzz.ts';

const seed = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : DEFAULT_FUZZ_SEED;
const inputs = process.env['FUZZ_INPUTS'] ? Number(process.env['FUZZ_INPUTS']) : 20_000;

let target: FuzzTarget;
beforeAll(async () => {
  target = await startFuzzTarget();
});
afterAll(async () => {
  await target?.close();
});

describe('fuzz', () => {
  it(`${inputs} seeded inputs: no crash, no 5xx, documented codes only, no state change after a refusal`, async () => {
    if (!Number.isInteger(seed) || !(inputs > 0)) throw new Error(`FUZZ_SEED must be an integer and FUZZ_INPUTS positive (got ${process.env['FUZZ_SEED']}, ${process.env['FUZZ_INPUTS']})`);
    console.log(`fuzz seed ${seed}, ${inputs} inputs (replay: FUZZ_SEED=${seed} npx vitest run test/integration/fuzz.test.ts)`);
    const report = await runFuzz(target, { seed, inputs, log: (line) => console.log(line), progressEvery: 5000 });
    console.log(formatReport(report));
    expect(report.inputs).toBe(inputs);
    expect(
      report.failures.map((f) => `#${f.index} [${f.surface}] ${f.oracle}${f.alike > 1 ? ` (${f.alike} alike)` : ''}: ${f.detail}\n    input: ${f.input}`),
      `fuzz seed ${seed}: ${report.failureCount} failures`,
    ).toEqual([]);
  }, 300_000);
});
