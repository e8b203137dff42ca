// Turning schema failures into messages a person can act on: each says where and what.
import { ZodError, type z } from 'zod';

export function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = issuePath(issue.path);
    const where = prefix === '' ? path : path === '(root)' ? prefix : `${prefix}.${path}`;
    return `${where}: ${issue.message}`;
  });
}

/**
 * `schema.safeParse(value)` for input from outside, which never throws. Zod runs a string's
 * length checks even on a value that is not a string, and an object whose `length` cannot be
 * turned into a number ({"length": {"toString": 1}}) makes it throw rather than refuse; such an
 * input is refused here like any other of the wrong shape.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): z.ZodSafeParseResult<T> {
  try {
    return schema.safeParse(value);
  } catch {
    return { success: false, error: new ZodError([{ code: 'custom', message: 'is not of the documented shape', path: [], input: value }]) } as z.ZodSafeParseResult<T>;
  }
}
