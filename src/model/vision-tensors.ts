import type { VisionConfig } from './config';
import { linear, tensor } from './tensor-spec';

/** Where the tower's tensors sit in a SmolVLM / Idefics3 checkpoint. */
export const VISION_PREFIX = 'model.vision_model';

/**
 * The SigLIP tower's tensors, named and shaped by its config, in checkpoint order: what load reads
 * and what the family's manifest checks (tensor-spec.ts).
 */
export function visionTensors(v: VisionConfig, prefix = VISION_PREFIX) {
  const h = v.hiddenSize;
  const side = v.imageSize / v.patchSize;
  const emb = `${prefix}.embeddings`;
  return {
    patchWeight: tensor(`${emb}.patch_embedding.weight`, [h, v.numChannels, v.patchSize, v.patchSize]),
    patchBias: tensor(`${emb}.patch_embedding.bias`, [h]),
    position: tensor(`${emb}.position_embedding.weight`, [side * side, h]),
    layers: Array.from({ length: v.numLayers }, (_, i) => {
      const l = `${prefix}.encoder.layers.${i}`;
      return {
        ln1Weight: tensor(`${l}.layer_norm1.weight`, [h]),
        ln1Bias: tensor(`${l}.layer_norm1.bias`, [h]),
        ln2Weight: tensor(`${l}.layer_norm2.weight`, [h]),
        ln2Bias: tensor(`${l}.layer_norm2.bias`, [h]),
        q: linear(`${l}.self_attn.q_proj`, h, h, { bias: true }),
        k: linear(`${l}.self_attn.k_proj`, h, h, { bias: true }),
        v: linear(`${l}.self_attn.v_proj`, h, h, { bias: true }),
        out: linear(`${l}.self_attn.out_proj`, h, h, { bias: true }),
        fc1: linear(`${l}.mlp.fc1`, v.intermediateSize, h, { bias: true }),
        fc2: linear(`${l}.mlp.fc2`, h, v.intermediateSize, { bias: true }),
      };
    }),
    postWeight: tensor(`${prefix}.post_layernorm.weight`, [h]),
    postBias: tensor(`${prefix}.post_layernorm.bias`, [h]),
  };
}
