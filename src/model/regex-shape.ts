/**
 * A static check of a tokenizer's regular expressions (tokenizer.json's Split / Replace patterns,
 * run by @huggingface/tokenizers as JavaScript RegExps, which backtrack and cannot be interrupted).
 * It refuses the shapes that make backtracking exponential: a quantified group that itself holds an
 * unbounded quantifier (`(a+)+`, `(\s*x?)*` — star height above one), a quantified group with
 * alternatives (`(a|ab)*`), and backreferences. Every real tokenizer's pattern (GPT-2, Llama 3,
 * SmolLM / SmolVLM) has none of these; their remaining polynomial cost is bounded by the length of
 * text the tokenizer is given (LIMITS.encodeChars) and measured when the tokenizer loads.
 *
 * Returns why the pattern is refused, or null when its shape is safe.
 */
export function unsafeRegexShape(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return 'it uses a backreference';
  interface Group {
    /** An unbounded quantifier (*, +, {n,}) applies to something inside. */
    unbounded: boolean;
    alternation: boolean;
  }
  const stack: Group[] = [{ unbounded: false, alternation: false }];
  let closed: Group | null = null;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const top = stack[stack.length - 1];
    if (c === '\\') {
      i++; // an escape: the next character is literal (or a class such as \s, \p{L}: skip its braces below)
      if ((pattern[i] === 'p' || pattern[i] === 'P') && pattern[i + 1] === '{') {
        const end = pattern.indexOf('}', i);
        i = end < 0 ? pattern.length : end;
      }
      closed = null;
      continue;
    }
    if (c === '[') {
      // a character class: to its closing bracket, minding escapes
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      closed = null;
      continue;
    }
    if (c === '(') {
      stack.push({ unbounded: false, alternation: false });
      closed = null;
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) return 'its parentheses do not balance';
      closed = stack.pop()!;
      // what a group holds, its parent holds too
      stack[stack.length - 1].unbounded ||= closed.unbounded;
      continue;
    }
    if (c === '|') {
      top.alternation = true;
      closed = null;
      continue;
    }
    const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d*,\}/.test(pattern.slice(i)));
    const bounded = c === '?' || (c === '{' && /^\{\d+(,\d+)?\}/.test(pattern.slice(i)));
    if (unbounded || bounded) {
      if (closed) {
        if (unbounded && closed.unbounded) return 'a repeated group holds another unbounded repetition (exponential backtracking)';
        if (unbounded && closed.alternation) return 'a repeated group has alternatives (exponential backtracking)';
      }
      if (unbounded) top.unbounded = true;
      if (c === '{') i = pattern.indexOf('}', i); // found: the tests above matched a closing brace
      if (pattern[i + 1] === '?' || pattern[i + 1] === '+') i++; // lazy / possessive suffix
      closed = null;
      continue;
    }
    closed = null;
  }
  if (stack.length !== 1) return 'its parentheses do not balance';
  return null;
}
