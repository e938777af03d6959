import { LIMITS } from './limits';

/**
 * How deeply `text`'s objects and arrays nest, counted without parsing, stopping as soon as it
 * exceeds `limit`. JSON.parse itself copes with deep nesting, but what consumes the result (the
 * tokenizer library, JSON.stringify in an error message, any recursive walk) recurses and dies of a
 * stack overflow: a file nested deeper than any real one is refused before it is parsed.
 */
export function jsonDepthExceeds(text: string, limit: number = LIMITS.jsonDepth): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * JSON.parse behind the two bounds every file read must have: its size and its nesting depth.
 * `fail(problem)` builds the caller's typed error (naming the file); it is thrown for a text too
 * long, too deep, or not JSON.
 */
export function parseBoundedJson(text: string, maxChars: number, fail: (problem: string, cause?: unknown) => Error): unknown {
  if (text.length > maxChars) throw fail(`is ${text.length} characters, more than the ${maxChars} this runtime reads`);
  if (jsonDepthExceeds(text)) throw fail(`nests objects and arrays more than ${LIMITS.jsonDepth} deep`);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw fail('not valid JSON', cause);
  }
}
