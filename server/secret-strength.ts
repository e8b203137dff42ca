// How hard a secret is to guess, for the secrets people choose: device tokens and race keys in
// the event file or sent by organisers, the organiser token and the link secret. zxcvbn-ts
// estimates the guesses an attacker who knows common words, keyboard walks, sequences and
// repeats would need; random tokens of 20 characters are far past the bar, "token-1-0123456789"
// or "aaaaaaaaaaaaaaaa" are not.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { z } from 'zod';

export const MIN_SECRET_LENGTH = 16;
/**
 * 10^14 guesses: at the 30 wrong credentials a minute each address is allowed, a hundred
 * thousand addresses would need about 60 years (docs/SECURITY.md).
 */
export const MIN_SECRET_GUESSES_LOG10 = 14;

let estimator: ZxcvbnFactory | null = null;

/** What is wrong with a secret, or null when it is long and unpredictable enough. */
export function weakSecretProblem(secret: string): string | null {
  if (secret.length < MIN_SECRET_LENGTH) return `needs at least ${MIN_SECRET_LENGTH} characters`;
  // Built on first use: its dictionaries take tens of milliseconds to load.
  // Four l33t substitutions catch p@ssw0rd; more multiply the cost (about 1 ms a secret with four, 5 ms with the default).
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs, l33tMaxSubstitutions: 4 });
  // Past 64 characters the estimate only grows; checking the start keeps the cost bounded.
  const guessesLog10 = estimator.check(secret.slice(0, 64)).guessesLog10;
  if (guessesLog10 < MIN_SECRET_GUESSES_LOG10) {
    return `is too easy to guess (about 10^${Math.floor(guessesLog10)} guesses; at least 10^${MIN_SECRET_GUESSES_LOG10} needed): use random characters, e.g. openssl rand -base64 18`;
  }
  return null;
}

/**
 * A schema for a secret someone chose, named `what` in its problems ("a race key is too easy to
 * guess…"); at most `maxLength` characters.
 */
export function strongSecret(what: string, maxLength = 1024) {
  return z
    .string()
    .max(maxLength, `${what} has at most ${maxLength} characters`)
    .superRefine((secret, ctx) => {
      const problem = weakSecretProblem(secret);
      if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
    });
}
