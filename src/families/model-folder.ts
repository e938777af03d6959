import { ModelLoadError } from '../errors';
import { LoadProgressTracker, type LoadProgressCallback } from '../model/progress';
import { readText, type ModelSource } from '../model/source';
import type { ModelFolder } from './family';

/**
 * Opens a model folder: reads are tracked for `onProgress`, and config.json is read first — a wrong
 * folder or model type should fail before the big downloads (and its `model_type` picks the family).
 */
export async function openModelFolder(source: ModelSource, onProgress?: LoadProgressCallback): Promise<ModelFolder> {
  const progress = new LoadProgressTracker(source.location, onProgress);
  const tracked = progress.track(source);
  const configText = await readText(tracked, 'config.json');
  if (configText === null) throw new ModelLoadError('config.json', `not found in ${tracked.location}`);
  return { source: tracked, configText, progress };
}
