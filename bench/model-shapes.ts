/**
 * Model configurations for the model benchmark, as config.json-style objects that go through the
 * real parseConfig (so the benchmark sees exactly what a hub folder would give the loaders).
 *
 * Values: /work/shared/reference/smolvlm2-spec.md §1.2 (SmolVLM2-256M/500M-Video-Instruct). The hub
 * files omit vision num_hidden_layers / intermediate_size; they are written out here (12, 3072: the
 * SigLIP class defaults the spec confirms from the tensor inventories).
 */
import { parseConfig, type SmolVlmConfig } from '../src/model/config';

export type ModelName = '256m' | '500m' | 'quick';

const VISION = {
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 512,
  patch_size: 16,
  layer_norm_eps: 1e-6,
  hidden_act: 'gelu_pytorch_tanh',
};

const TEXT_COMMON = {
  model_type: 'llama',
  head_dim: 64,
  vocab_size: 49280,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  max_position_embeddings: 8192,
  hidden_act: 'silu',
};

function smolvlm(vision: object, text: object, scale: number, imageTokenId = 49190): Record<string, unknown> {
  return { model_type: 'smolvlm', image_token_id: imageTokenId, scale_factor: scale, tie_word_embeddings: false, vision_config: vision, text_config: text };
}

export const CONFIG_JSON: Record<ModelName, Record<string, unknown>> = {
  '256m': smolvlm(VISION, { ...TEXT_COMMON, hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, intermediate_size: 1536 }, 4),
  '500m': smolvlm(VISION, { ...TEXT_COMMON, hidden_size: 960, num_hidden_layers: 32, num_attention_heads: 15, num_key_value_heads: 5, intermediate_size: 2560 }, 4),
  /**
   * Tiny, same structure (GQA 2:1, pixel shuffle, biases everywhere SigLIP has them): proves the
   * harness end to end on SwiftShader in seconds. Figures from it mean nothing.
   */
  quick: smolvlm(
    { ...VISION, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, image_size: 64 },
    { ...TEXT_COMMON, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 128, vocab_size: 512, max_position_embeddings: 2048 },
    2,
    500, // inside the tiny vocabulary
  ),
};

/** Parameter counts the spec derives (§1.2); the random checkpoint's inventory is checked against them. */
export const EXPECTED_PARAMETERS: Partial<Record<ModelName, number>> = { '256m': 256_484_928, '500m': 507_482_304 };

export function modelConfig(name: ModelName): SmolVlmConfig {
  return parseConfig(JSON.stringify(CONFIG_JSON[name]), `${name} config.json`);
}
