/**
 * Model output and user-given text on their way to a terminal. A model can emit any character,
 * and an escape sequence (ESC, CSI…), a carriage return or a bidi override would let an answer
 * rewrite the screen or hide text. These are shown escaped (`\x1b`, `\u202e`); newlines and tabs
 * pass.
 */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (c: string) => {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Text safe to print: control characters and bidi controls escaped, newlines and tabs kept. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Characters JSON.stringify leaves raw that a terminal may still act on (C1 controls, bidi controls, line separators). */
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** One line of JSON with every control character as a `\uXXXX` escape: parses to the same value. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The CLI's line naming the adapter in use, on stderr (stdout stays the command's output). */
export function announceAdapter(description: string): void {
  process.stderr.write(`GPU: ${terminalSafe(description)}\n`);
}
