import { UnsupportedModelError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { parseJsonObject } from '../model/json-file';
import type { ModelSource } from '../model/source';
import type { ModelFamily, ModelLoadOptions, VisionLanguageModel } from './family';
import { openModelFolder } from './model-folder';
import { smolVlmFamily } from './smolvlm/index';

/**
 * Every family this runtime runs, one line each (adding a family: its folder, then its line here).
 * config.json's `model_type` picks one.
 */
const FAMILIES: readonly ModelFamily[] = [smolVlmFamily];

const BY_MODEL_TYPE = new Map<string, ModelFamily>(FAMILIES.flatMap((f) => f.modelTypes.map((t) => [t, f] as const)));

/** The family that runs config.json's `model_type`; UnsupportedModelError naming the ones there are. */
export function familyFor(modelType: unknown, file = 'config.json'): ModelFamily {
  const family = typeof modelType === 'string' ? BY_MODEL_TYPE.get(modelType) : undefined;
  if (family) return family;
  const known = [...BY_MODEL_TYPE.keys()].map((t) => JSON.stringify(t));
  const expected = known.length > 1 ? `${known.slice(0, -1).join(', ')} or ${known[known.length - 1]}` : known[0];
  throw new UnsupportedModelError(`${file}: model_type ${JSON.stringify(modelType)} is not supported (expected ${expected})`);
}

/** The family of a config.json's text (its bounds checked as the family's parser does). */
export function familyOfConfig(configText: string, file = 'config.json'): ModelFamily {
  return familyFor(parseJsonObject(file, configText).model_type, file);
}

/**
 * Loads a model folder with the family its config.json names: config.json first (a wrong folder or
 * model type fails before the big downloads), then the family's own load. The engine, worker and
 * CLI load models only through here.
 */
export async function loadModel(gpu: GpuDevice, source: ModelSource, options: ModelLoadOptions = {}): Promise<VisionLanguageModel> {
  const folder = await openModelFolder(source, options.onProgress);
  return familyOfConfig(folder.configText).load(gpu, folder, options);
}
