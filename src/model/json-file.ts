import { parseBoundedJson } from '../bounded-json';
import { ModelLoadError } from '../errors';
import { LIMITS } from '../limits';

/**
 * A model folder's JSON file parsed as an object; anything else is a ModelLoadError naming the file.
 * Bounded in size (`maxChars`, the small-file limit unless the caller reads tokenizer.json) and in
 * nesting depth, so a hostile file is refused before anything walks it.
 */
export function parseJsonObject(file: string, text: string, maxChars: number = LIMITS.smallJsonBytes): Record<string, unknown> {
  const raw = parseBoundedJson(text, maxChars, (problem, cause) => new ModelLoadError(file, problem, cause === undefined ? undefined : { cause }));
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError(file, 'not a JSON object');
  return raw as Record<string, unknown>;
}
