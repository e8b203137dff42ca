// The error-code table clients rely on: every code has one HTTP status, and docs/PROTOCOL.md
// prints the same table, so what a client reads there is what the server answers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, httpStatusOf } from '../../shared/protocol.ts';

describe('error codes', () => {
  it('docs/PROTOCOL.md lists every code with the status the server answers it with', () => {
    const doc = readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    const documented = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect(Object.fromEntries(documented)).toEqual({ ...httpStatusOf });
    expect(Object.keys(httpStatusOf).sort()).toEqual(Object.values(ErrorCodes).sort());
  });
});
