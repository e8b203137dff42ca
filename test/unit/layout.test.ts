// The project's layering, checked by its lint configuration run here (so `npm test` holds it
// too): the server does not import the simulations, and the core and shared code stay free of
// transport, storage and Node APIs.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

describe('layout', () => {
  it('keeps the simulations out of the server and Node, transports and storage out of the core', async () => {
    const eslint = new ESLint({ cwd: new URL('../../', import.meta.url).pathname });
    const results = await eslint.lintFiles(['server/**/*.ts', 'shared/**/*.ts']);
    const broken = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(broken).toEqual([]);
    // The rule is there and bites: a server file importing a simulation is refused.
    const [probe] = await eslint.lintText("import { noisyRun } from '../simulations/noisy-run.ts';\nexport const run = noisyRun;\n", { filePath: 'server/probe.ts' });
    expect(probe!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
  }, 60_000);
});
