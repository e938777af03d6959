import { ModelLoadError } from '../errors';

/** A model folder's JSON file parsed as an object; anything else is a ModelLoadError naming the file. */
export function parseJsonObject(file: string, text: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ModelLoadError(file, 'not valid JSON', { cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError(file, 'not a JSON object');
  return raw as Record<string, unknown>;
}
