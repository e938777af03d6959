import type { Rng } from './rng';

/**
 * One parser or decoder under fuzz: how to make a case (a structure-aware mutation of a valid file,
 * from the case's seeded generator), how to run the parser on it, and what an accepted input must
 * satisfy — "accepted" is only a pass when what the parser returned is really valid.
 */
export interface FuzzTarget<I = unknown, R = unknown> {
  name: string;
  /** Substrings of which a refusal's message must hold one: the file (or field) it names. */
  names: readonly string[];
  make(rng: Rng): I;
  run(input: I): R | Promise<R>;
  /** Null when the accepted result is valid, else what is wrong with it. */
  check(input: I, result: R): string | null | Promise<string | null>;
  /** The case's input as bytes, to save a failing case for replay. */
  bytes(input: I): Uint8Array;
}

export const utf8 = (text: string) => new TextEncoder().encode(text);
