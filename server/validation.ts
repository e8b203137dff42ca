// Turning schema failures into messages a person can act on: each says where and what.
import type { z } from 'zod';

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
