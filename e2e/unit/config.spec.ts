import { expect, test } from '@playwright/test';
import { ModelLoadError, UnsupportedModelError } from '../../src/errors';
import { parseConfig } from '../../src/model/config';

// As the hub serves SmolVLM2-256M-Video-Instruct's config.json (abridged): the vision config omits
// num_hidden_layers, intermediate_size, hidden_act and layer_norm_eps.
const HUB_256M = {
  architectures: ['SmolVLMForConditionalGeneration'],
  model_type: 'smolvlm',
  image_token_id: 49190,
  scale_factor: 4,
  tie_word_embeddings: false,
  vision_config: { hidden_size: 768, num_attention_heads: 12, image_size: 512, patch_size: 16, model_type: 'smolvlm_vision' },
  text_config: {
    model_type: 'llama', hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64,
    intermediate_size: 1536, rope_theta: 100000, rms_norm_eps: 1e-5, vocab_size: 49280, max_position_embeddings: 8192,
  },
};

test('a hub config: keys it has win, class defaults fill the missing ones', () => {
  const c = parseConfig(JSON.stringify(HUB_256M));
  expect(c.vision).toEqual({
    hiddenSize: 768, intermediateSize: 3072, numLayers: 12, numHeads: 12, numChannels: 3, imageSize: 512, patchSize: 16,
    layerNormEps: 1e-6, hiddenAct: 'gelu_pytorch_tanh',
  });
  expect(c.text.ropeTheta).toBe(100000);
  expect(c.text.numKvHeads).toBe(3);
  expect(c.imageTokenId).toBe(49190);
  expect(c.imageSeqLen).toBe(64);
});

test('transformers 5 writes rope_parameters instead of rope_theta; both work', () => {
  const { rope_theta: _unused, ...text } = HUB_256M.text_config;
  const v5 = { ...HUB_256M, text_config: { ...text, rope_parameters: { rope_type: 'default', rope_theta: 100000 } } };
  expect(parseConfig(JSON.stringify(v5)).text.ropeTheta).toBe(100000);
});

test('wrong configs are refused with typed errors', () => {
  expect(() => parseConfig('{"model_type": "smolvlm",')).toThrow(ModelLoadError);
  expect(() => parseConfig('{"model_type": "smolvlm",')).toThrow(/config\.json: not valid JSON/);
  expect(() => parseConfig(JSON.stringify({ ...HUB_256M, model_type: 'llava' }))).toThrow(UnsupportedModelError);
  expect(() => parseConfig(JSON.stringify({ ...HUB_256M, scale_factor: 3 }))).toThrow(/multiple of scale_factor 3/);
  expect(() => parseConfig(JSON.stringify({ ...HUB_256M, text_config: { ...HUB_256M.text_config, num_key_value_heads: 4 } }))).toThrow(/num_key_value_heads/);
  expect(() => parseConfig(JSON.stringify({ ...HUB_256M, text_config: { ...HUB_256M.text_config, hidden_size: '576' } }))).toThrow(/hidden_size must be a number/);
  expect(() => parseConfig(JSON.stringify({ ...HUB_256M, text_config: { ...HUB_256M.text_config, rope_scaling: { type: 'yarn' } } }))).toThrow(UnsupportedModelError);
});
