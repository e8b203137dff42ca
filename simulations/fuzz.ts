// The long fuzz run: `npm run fuzz -- --inputs 200000 [--seed N] [--concurrency N]`. Starts the
// test event on an in-process server (startTestServer), runs the seeded generator of
// test/support/fuzz.ts against it, prints the figures and every failure with the input that
// caused it, and exits non-zero on any failure. The same seed replays the same sequence of
// choices (what is sent where, and how it is mangled); values taken from the clock or from the
// server's own random tokens differ from run to run, so each failure prints its whole input.
import { DEFAULT_FUZZ_SEED, formatReport, runFuzz, startFuzzTarget } from '../test/support/fuzz.ts';

function option(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const at = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (at < 0) return fallback;
  const raw = args[at]!.includes('=') ? args[at]!.split('=')[1] : args[at + 1];
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < 0) {
    console.error(`--${name} needs a whole number (got ${raw ?? 'nothing'})`);
    process.exit(2);
  }
  return value;
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: npm run fuzz -- [--inputs 200000] [--seed N] [--concurrency 8] [--progress 10000]');
  process.exit(0);
}

const inputs = option('inputs', 200_000);
const seed = option('seed', DEFAULT_FUZZ_SEED);
const concurrency = Math.max(1, option('concurrency', 8));
const progressEvery = option('progress', 10_000);

console.log(`fuzz seed ${seed}: ${inputs} inputs (replay: npm run fuzz -- --inputs ${inputs} --seed ${seed})`);
const target = await startFuzzTarget();
let failed: boolean;
try {
  const report = await runFuzz(target, { seed, inputs, concurrency, progressEvery, log: (line) => console.log(line) });
  console.log('');
  console.log(formatReport(report));
  const heapMb = Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
  console.log(`\nheap after the run: ${heapMb} MB`);
  failed = report.failureCount > 0;
  if (failed) console.log(`\n${report.failureCount} failures; replay with --seed ${seed}`);
} finally {
  await target.close();
}
process.exit(failed ? 1 : 0);
