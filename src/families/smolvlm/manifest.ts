import { ModelLoadError } from '../../errors';
import type { SmolVlmConfig } from '../../model/config';

/**
 * Every tensor a SmolVLM checkpoint must hold, with the shape its config implies (spec §7). The
 * loader checks the checkpoint against it before uploading anything, so a missing tensor or a
 * shape that disagrees with config.json is refused with nothing half-loaded on the GPU.
 */
export function expectedTensors(config: SmolVlmConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const v = config.vision;
  const t = config.text;
  const vp = 'model.vision_model';
  const side = v.imageSize / v.patchSize;
  m.set(`${vp}.embeddings.patch_embedding.weight`, [v.hiddenSize, v.numChannels, v.patchSize, v.patchSize]);
  m.set(`${vp}.embeddings.patch_embedding.bias`, [v.hiddenSize]);
  m.set(`${vp}.embeddings.position_embedding.weight`, [side * side, v.hiddenSize]);
  for (let i = 0; i < v.numLayers; i++) {
    const l = `${vp}.encoder.layers.${i}`;
    for (const norm of ['layer_norm1', 'layer_norm2']) {
      m.set(`${l}.${norm}.weight`, [v.hiddenSize]);
      m.set(`${l}.${norm}.bias`, [v.hiddenSize]);
    }
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      m.set(`${l}.self_attn.${proj}.weight`, [v.hiddenSize, v.hiddenSize]);
      m.set(`${l}.self_attn.${proj}.bias`, [v.hiddenSize]);
    }
    m.set(`${l}.mlp.fc1.weight`, [v.intermediateSize, v.hiddenSize]);
    m.set(`${l}.mlp.fc1.bias`, [v.intermediateSize]);
    m.set(`${l}.mlp.fc2.weight`, [v.hiddenSize, v.intermediateSize]);
    m.set(`${l}.mlp.fc2.bias`, [v.hiddenSize]);
  }
  m.set(`${vp}.post_layernorm.weight`, [v.hiddenSize]);
  m.set(`${vp}.post_layernorm.bias`, [v.hiddenSize]);
  m.set('model.connector.modality_projection.proj.weight', [t.hiddenSize, v.hiddenSize * config.scaleFactor ** 2]);
  const tp = 'model.text_model';
  const q = t.numHeads * t.headDim;
  const kv = t.numKvHeads * t.headDim;
  m.set(`${tp}.embed_tokens.weight`, [t.vocabSize, t.hiddenSize]);
  for (let i = 0; i < t.numLayers; i++) {
    const l = `${tp}.layers.${i}`;
    m.set(`${l}.input_layernorm.weight`, [t.hiddenSize]);
    m.set(`${l}.post_attention_layernorm.weight`, [t.hiddenSize]);
    m.set(`${l}.self_attn.q_proj.weight`, [q, t.hiddenSize]);
    m.set(`${l}.self_attn.k_proj.weight`, [kv, t.hiddenSize]);
    m.set(`${l}.self_attn.v_proj.weight`, [kv, t.hiddenSize]);
    m.set(`${l}.self_attn.o_proj.weight`, [t.hiddenSize, q]);
    m.set(`${l}.mlp.gate_proj.weight`, [t.intermediateSize, t.hiddenSize]);
    m.set(`${l}.mlp.up_proj.weight`, [t.intermediateSize, t.hiddenSize]);
    m.set(`${l}.mlp.down_proj.weight`, [t.hiddenSize, t.intermediateSize]);
  }
  m.set(`${tp}.norm.weight`, [t.hiddenSize]);
  if (!config.tieWordEmbeddings) m.set('lm_head.weight', [t.vocabSize, t.hiddenSize]);
  return m;
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
