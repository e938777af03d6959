import { ModelLoadError } from '../../errors';
import type { SmolVlmConfig } from '../../model/config';
import { connectorTensors } from '../../model/connector-tensors';
import { tensorManifest } from '../../model/tensor-spec';
import { textTensors } from '../../model/text-tensors';
import { visionTensors } from '../../model/vision-tensors';

/**
 * Every tensor a SmolVLM checkpoint must hold, with the shape its config implies (spec §7): the
 * towers' own declarations (visionTensors, connectorTensors, textTensors — the names their load
 * reads), in checkpoint order. The loader checks the checkpoint against it before uploading
 * anything, so a missing tensor or a shape that disagrees with config.json is refused with nothing
 * half-loaded on the GPU.
 */
export function smolVlmTensors(config: SmolVlmConfig) {
  return {
    vision: visionTensors(config.vision),
    connector: connectorTensors(config),
    text: textTensors(config.text, config.tieWordEmbeddings),
  };
}

export function expectedTensors(config: SmolVlmConfig): Map<string, number[]> {
  return tensorManifest(smolVlmTensors(config));
}

/** Throws a ModelLoadError for the first tensor that is missing or has the wrong shape. */
export function checkManifest(config: SmolVlmConfig, checkpoint: { has(name: string): boolean; shape(name: string): readonly number[] }): void {
  for (const [name, shape] of expectedTensors(config)) {
    if (!checkpoint.has(name)) {
      const hint = name === 'lm_head.weight' ? ' (config.json says the head is not tied to the embeddings)' : '';
      throw new ModelLoadError('model.safetensors', `missing tensor ${name}${hint}`);
    }
    const actual = checkpoint.shape(name);
    if (actual.join() !== shape.join()) {
      throw new ModelLoadError('model.safetensors', `tensor ${name} has shape [${actual.join(', ')}], config.json implies [${shape.join(', ')}]`);
    }
  }
}
