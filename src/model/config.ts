import { ModelLoadError, UnsupportedModelError } from '../errors';
import { parseJsonObject } from './json-file';

/**
 * A SmolVLM / SmolVLM2 (Idefics3 family) config.json, normalized. Keys the file has win; class
 * defaults (transformers' SmolVLMConfig / SmolVLMVisionConfig / LlamaConfig) fill only missing
 * keys — the hub's SmolVLM2 vision configs omit num_hidden_layers, intermediate_size, hidden_act
 * and layer_norm_eps, which must then take SigLIP's class defaults (12, 3072, gelu_pytorch_tanh, 1e-6).
 */
export interface VisionConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numChannels: number;
  imageSize: number;
  patchSize: number;
  layerNormEps: number;
  hiddenAct: string;
}

export interface TextConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositions: number;
  hiddenAct: string;
}

export interface SmolVlmConfig {
  modelType: 'smolvlm' | 'idefics3';
  imageTokenId: number;
  scaleFactor: number;
  tieWordEmbeddings: boolean;
  vision: VisionConfig;
  text: TextConfig;
  /** Visual tokens per image tile: (imageSize / patchSize)² / scaleFactor². */
  imageSeqLen: number;
}

type Json = Record<string, unknown>;

function num(file: string, obj: Json, key: string, fallback: number): number {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelLoadError(file, `${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function str(file: string, obj: Json, key: string, fallback: string): string {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new ModelLoadError(file, `${key} must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function positiveInt(file: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new ModelLoadError(file, `${what} must be a positive integer, got ${v}`);
  return v;
}

/** rope_theta (hub files, transformers 4) or rope_parameters.rope_theta (transformers 5). */
function ropeTheta(file: string, text: Json): number {
  const params = text.rope_parameters as Json | undefined;
  if (params && typeof params === 'object') {
    const type = params.rope_type ?? 'default';
    if (type !== 'default') throw new UnsupportedModelError(`${file}: rope_type "${String(type)}" is not supported (only default RoPE)`);
    return num(file, params, 'rope_theta', 10000);
  }
  const scaling = text.rope_scaling;
  if (scaling !== undefined && scaling !== null) throw new UnsupportedModelError(`${file}: rope_scaling is not supported`);
  return num(file, text, 'rope_theta', 10000);
}

export function parseConfig(text: string, file = 'config.json'): SmolVlmConfig {
  const c = parseJsonObject(file, text) as Json;
  const modelType = c.model_type;
  if (modelType !== 'smolvlm' && modelType !== 'idefics3') {
    throw new UnsupportedModelError(`${file}: model_type ${JSON.stringify(modelType)} is not supported (expected "smolvlm" or "idefics3")`);
  }
  const v = (c.vision_config ?? {}) as Json;
  const t = (c.text_config ?? {}) as Json;
  if (typeof v !== 'object' || typeof t !== 'object') throw new ModelLoadError(file, 'vision_config and text_config must be objects');
  const textModelType = t.model_type ?? 'llama';
  if (textModelType !== 'llama') throw new UnsupportedModelError(`${file}: text model_type "${String(textModelType)}" is not supported (expected llama)`);

  const vision: VisionConfig = {
    hiddenSize: positiveInt(file, 'vision_config.hidden_size', num(file, v, 'hidden_size', 1152)),
    intermediateSize: positiveInt(file, 'vision_config.intermediate_size', num(file, v, 'intermediate_size', 3072)),
    numLayers: positiveInt(file, 'vision_config.num_hidden_layers', num(file, v, 'num_hidden_layers', 12)),
    numHeads: positiveInt(file, 'vision_config.num_attention_heads', num(file, v, 'num_attention_heads', 16)),
    numChannels: positiveInt(file, 'vision_config.num_channels', num(file, v, 'num_channels', 3)),
    imageSize: positiveInt(file, 'vision_config.image_size', num(file, v, 'image_size', 224)),
    patchSize: positiveInt(file, 'vision_config.patch_size', num(file, v, 'patch_size', 32)),
    layerNormEps: num(file, v, 'layer_norm_eps', 1e-6),
    hiddenAct: str(file, v, 'hidden_act', 'gelu_pytorch_tanh'),
  };
  const numHeads = positiveInt(file, 'text_config.num_attention_heads', num(file, t, 'num_attention_heads', 32));
  const hiddenSize = positiveInt(file, 'text_config.hidden_size', num(file, t, 'hidden_size', 4096));
  const textConfig: TextConfig = {
    hiddenSize,
    intermediateSize: positiveInt(file, 'text_config.intermediate_size', num(file, t, 'intermediate_size', 11008)),
    numLayers: positiveInt(file, 'text_config.num_hidden_layers', num(file, t, 'num_hidden_layers', 32)),
    numHeads,
    numKvHeads: positiveInt(file, 'text_config.num_key_value_heads', num(file, t, 'num_key_value_heads', numHeads)),
    headDim: positiveInt(file, 'text_config.head_dim', num(file, t, 'head_dim', hiddenSize / numHeads)),
    vocabSize: positiveInt(file, 'text_config.vocab_size', num(file, t, 'vocab_size', 32000)),
    rmsNormEps: num(file, t, 'rms_norm_eps', 1e-6),
    ropeTheta: ropeTheta(file, t),
    maxPositions: positiveInt(file, 'text_config.max_position_embeddings', num(file, t, 'max_position_embeddings', 2048)),
    hiddenAct: str(file, t, 'hidden_act', 'silu'),
  };
  const scaleFactor = positiveInt(file, 'scale_factor', num(file, c, 'scale_factor', 2));
  const gridSide = vision.imageSize / vision.patchSize;
  if (!Number.isInteger(gridSide) || gridSide % scaleFactor) {
    throw new ModelLoadError(file, `image_size ${vision.imageSize} / patch_size ${vision.patchSize} must be a whole multiple of scale_factor ${scaleFactor}`);
  }
  if (vision.hiddenSize % vision.numHeads) throw new ModelLoadError(file, 'vision hidden_size is not divisible by num_attention_heads');
  if (textConfig.numHeads % textConfig.numKvHeads) throw new ModelLoadError(file, 'num_attention_heads is not a multiple of num_key_value_heads');
  if (vision.hiddenAct !== 'gelu_pytorch_tanh') throw new UnsupportedModelError(`${file}: vision hidden_act "${vision.hiddenAct}" is not supported`);
  if (textConfig.hiddenAct !== 'silu') throw new UnsupportedModelError(`${file}: text hidden_act "${textConfig.hiddenAct}" is not supported`);
  return {
    modelType,
    imageTokenId: positiveInt(file, 'image_token_id', num(file, c, 'image_token_id', 128257)),
    scaleFactor,
    tieWordEmbeddings: c.tie_word_embeddings === true,
    vision,
    text: textConfig,
    imageSeqLen: (gridSide / scaleFactor) ** 2,
  };
}
