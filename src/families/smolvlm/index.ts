/**
 * SmolVLM / SmolVLM2 (the Idefics3 architecture): a SigLIP vision tower, a pixel-shuffle connector
 * and a Llama decoder. The towers, the processor and the tokenizer are building blocks in
 * src/model/ (another Idefics3-shaped family reuses them); what is SmolVLM's alone is here: the
 * model class, its tensor manifest, its stream layout and its frame encoder.
 */
import { parseConfig, type SmolVlmConfig } from '../../model/config';
import type { ModelFamily } from '../family';
import { expectedTensors } from './manifest';
import { SmolVlm } from './smolvlm';

export const smolVlmFamily: ModelFamily<SmolVlmConfig> = {
  name: 'SmolVLM',
  modelTypes: ['smolvlm', 'idefics3'],
  parseConfig,
  expectedTensors,
  load: (gpu, folder, options) => SmolVlm.loadFolder(gpu, folder, options),
};

export { SmolVlm };
