import { parseBoundedJson } from '../bounded-json';
import { ModelLoadError } from '../errors';
import { LIMITS } from '../limits';

/**
 * What a server that answers every path with its web page (a single-page app's fallback, some
 * static hosts' 404 page sent as 200) gives for a model file it does not have. Told apart so the
 * error says so, rather than "not valid JSON".
 */
export const HTML_INSTEAD_OF_FILE =
  'came back as an HTML page, not the file: the server answers files it does not have with a web page (a single-page-app fallback?); serve the model folder as plain static files, so a missing file is a 404';

/** Whether text is an HTML document rather than JSON (a JSON text never starts with `<`). */
export function looksLikeHtml(text: string): boolean {
  return /^\uFEFF?\s*</.test(text);
}

/**
 * A model folder's JSON file parsed (any JSON value), bounded in size (`maxChars`, the small-file
 * limit unless the caller reads tokenizer.json) and in nesting depth, so a hostile file is refused
 * before anything walks it. Not JSON is a ModelLoadError naming the file, saying when it is HTML.
 */
export function parseJson(file: string, text: string, maxChars: number = LIMITS.smallJsonBytes): unknown {
  return parseBoundedJson(text, maxChars, (problem, cause) => new ModelLoadError(file, problem === 'not valid JSON' && looksLikeHtml(text) ? HTML_INSTEAD_OF_FILE : problem, cause === undefined ? undefined : { cause }));
}

/** A model folder's JSON file parsed as an object (bounded as parseJson); anything else is a ModelLoadError naming the file. */
export function parseJsonObject(file: string, text: string, maxChars: number = LIMITS.smallJsonBytes): Record<string, unknown> {
  const raw = parseJson(file, text, maxChars);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError(file, 'not a JSON object');
  return raw as Record<string, unknown>;
}
