import { LIMITS } from '../limits';

/**
 * A static check of a tokenizer's regular expressions (tokenizer.json's Split / Replace patterns,
 * run by @huggingface/tokenizers as JavaScript RegExps, which backtrack and cannot be interrupted).
 * It refuses the shapes that make backtracking exponential or steeply polynomial:
 * - a repeated group that itself holds an unbounded repetition (`(a+)+`, `(\s*x?)*`: star height > 1);
 * - a repeated group with alternatives (`(a|ab)*`);
 * - backreferences;
 * - the same atom repeated without bound twice in a row (`\s*\s*`, `a+a*`), or more than
 *   LIMITS.regexUnboundedPerBranch unbounded repetitions in one alternative (`\s*x*\s*y`): each
 *   adds a degree to the polynomial a failing match costs.
 * Every real tokenizer's pattern (GPT-2, Llama 3, SmolLM / SmolVLM) passes; what cost remains is
 * bounded by the length of text the tokenizer takes at once (LIMITS.encodeChars) and measured on
 * probe texts when the tokenizer loads.
 *
 * Returns why the pattern is refused, or null when its shape is safe.
 */
export function unsafeRegexShape(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return 'it uses a backreference';
  interface Frame {
    /** An unbounded quantifier (*, +, {n,}) applies to something inside. */
    unbounded: boolean;
    alternation: boolean;
    /** Unbounded quantifiers in the current alternative. */
    branchUnbounded: number;
    /** The text of the last atom repeated without bound, and how many atoms have started since. */
    lastUnboundedAtom: string | null;
    atomsSince: number;
  }
  const frame = (): Frame => ({ unbounded: false, alternation: false, branchUnbounded: 0, lastUnboundedAtom: null, atomsSince: 0 });
  const stack: Frame[] = [frame()];
  const opens: number[] = [];
  /** The group just closed (a quantifier right after it applies to it). */
  let closed: Frame | null = null;
  /** Where the atom a quantifier would apply to starts. */
  let atomStart = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    const top = stack[stack.length - 1];
    const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d*,\}/.test(pattern.slice(i)));
    const bounded = c === '?' || (c === '{' && /^\{\d+(,\d+)?\}/.test(pattern.slice(i)));
    if (unbounded || bounded) {
      const atom = pattern.slice(atomStart, i);
      if (closed && unbounded && closed.unbounded) return 'a repeated group holds another unbounded repetition (exponential backtracking)';
      if (closed && unbounded && closed.alternation) return 'a repeated group has alternatives (exponential backtracking)';
      if (unbounded) {
        if (top.atomsSince === 1 && top.lastUnboundedAtom === atom) return `${atom} is repeated without bound twice in a row (polynomial backtracking)`;
        top.unbounded = true;
        if (++top.branchUnbounded > LIMITS.regexUnboundedPerBranch) return `one alternative has more than ${LIMITS.regexUnboundedPerBranch} unbounded repetitions (polynomial backtracking)`;
      }
      if (c === '{') i = pattern.indexOf('}', i); // found: the tests above matched a closing brace
      if (pattern[i + 1] === '?' || pattern[i + 1] === '+') i++; // lazy / possessive suffix
      top.lastUnboundedAtom = unbounded ? atom : null;
      top.atomsSince = 0;
      closed = null;
      continue;
    }
    closed = null;
    atomStart = i;
    top.atomsSince++;
    if (c === '\\') {
      i++; // an escape: the next character is literal, or a class such as \s or \p{L}
      if ((pattern[i] === 'p' || pattern[i] === 'P') && pattern[i + 1] === '{') {
        const end = pattern.indexOf('}', i);
        i = end < 0 ? pattern.length : end;
      }
    } else if (c === '[') {
      // a character class: to its closing bracket, minding escapes
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
    } else if (c === '(') {
      stack.push(frame());
      opens.push(i);
      continue;
    } else if (c === ')') {
      if (stack.length === 1) return 'its parentheses do not balance';
      closed = stack.pop()!;
      atomStart = opens.pop()!;
      const parent = stack[stack.length - 1];
      // what a group holds, its parent holds too
      parent.unbounded ||= closed.unbounded;
      parent.branchUnbounded += closed.branchUnbounded;
      if (parent.branchUnbounded > LIMITS.regexUnboundedPerBranch) return `one alternative has more than ${LIMITS.regexUnboundedPerBranch} unbounded repetitions (polynomial backtracking)`;
      continue;
    } else if (c === '|') {
      top.alternation = true;
      top.branchUnbounded = 0;
      top.lastUnboundedAtom = null;
    }
  }
  if (stack.length !== 1) return 'its parentheses do not balance';
  return null;
}
