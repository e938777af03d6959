import { ModelLoadError, UnsupportedModelError } from '../errors';
import { LIMITS } from '../limits';
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

/**
 * A positive integer no larger than `max`: every size read here later sizes loops (one per layer)
 * and allocations, so an absurd one is refused here, by name, before any of them.
 */
function positiveInt(file: string, what: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new ModelLoadError(file, `${what} must be a positive integer, got ${v}`);
  if (v > max) throw new ModelLoadError(file, `${what} is ${v}, more than the ${max} this runtime accepts (corrupt or hostile config?)`);
  return v;
}

/** A small positive float (norm epsilons): finite and below 1. */
function epsilon(file: string, what: string, v: number): number {
  if (!(v > 0 && v < 1)) throw new ModelLoadError(file, `${what} must be a number between 0 and 1, got ${v}`);
  return v;
}

function object(file: string, c: Json, key: string): Json {
  const v = c[key] ?? {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ModelLoadError(file, `${key} must be an object`);
  return v as Json;
}

/**
 * The weights the config implies, counted with float arithmetic before the tensor manifest (one
 * entry per tensor per layer) is built: sizes that pass one by one can still multiply to a model
 * no device could hold.
 */
function impliedParameters(v: VisionConfig, t: TextConfig, scaleFactor: number): number {
  const side = v.imageSize / v.patchSize;
  const vision = v.hiddenSize * (v.numChannels * v.patchSize ** 2 + side ** 2) + v.numLayers * (4 * v.hiddenSize ** 2 + 2 * v.hiddenSize * v.intermediateSize);
  const connector = t.hiddenSize * v.hiddenSize * scaleFactor ** 2;
  const attention = t.hiddenSize * t.headDim * (2 * t.numHeads + 2 * t.numKvHeads);
  const text = 2 * t.vocabSize * t.hiddenSize + t.numLayers * (attention + 3 * t.hiddenSize * t.intermediateSize);
  return vision + connector + text;
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
  const v = object(file, c, 'vision_config');
  const t = object(file, c, 'text_config');
  const textModelType = t.model_type ?? 'llama';
  if (textModelType !== 'llama') throw new UnsupportedModelError(`${file}: text model_type "${String(textModelType)}" is not supported (expected llama)`);

  const vision: VisionConfig = {
    hiddenSize: positiveInt(file, 'vision_config.hidden_size', num(file, v, 'hidden_size', 1152), LIMITS.hiddenSize),
    intermediateSize: positiveInt(file, 'vision_config.intermediate_size', num(file, v, 'intermediate_size', 3072), LIMITS.intermediateSize),
    numLayers: positiveInt(file, 'vision_config.num_hidden_layers', num(file, v, 'num_hidden_layers', 12), LIMITS.layers),
    numHeads: positiveInt(file, 'vision_config.num_attention_heads', num(file, v, 'num_attention_heads', 16), LIMITS.heads),
    numChannels: positiveInt(file, 'vision_config.num_channels', num(file, v, 'num_channels', 3), LIMITS.channels),
    imageSize: positiveInt(file, 'vision_config.image_size', num(file, v, 'image_size', 224), LIMITS.imageSize),
    patchSize: positiveInt(file, 'vision_config.patch_size', num(file, v, 'patch_size', 32), LIMITS.imageSize),
    layerNormEps: epsilon(file, 'vision_config.layer_norm_eps', num(file, v, 'layer_norm_eps', 1e-6)),
    hiddenAct: str(file, v, 'hidden_act', 'gelu_pytorch_tanh'),
  };
  const numHeads = positiveInt(file, 'text_config.num_attention_heads', num(file, t, 'num_attention_heads', 32), LIMITS.heads);
  const hiddenSize = positiveInt(file, 'text_config.hidden_size', num(file, t, 'hidden_size', 4096), LIMITS.hiddenSize);
  const textConfig: TextConfig = {
    hiddenSize,
    intermediateSize: positiveInt(file, 'text_config.intermediate_size', num(file, t, 'intermediate_size', 11008), LIMITS.intermediateSize),
    numLayers: positiveInt(file, 'text_config.num_hidden_layers', num(file, t, 'num_hidden_layers', 32), LIMITS.layers),
    numHeads,
    numKvHeads: positiveInt(file, 'text_config.num_key_value_heads', num(file, t, 'num_key_value_heads', numHeads), LIMITS.heads),
    headDim: positiveInt(file, 'text_config.head_dim', num(file, t, 'head_dim', hiddenSize / numHeads), LIMITS.headDim),
    vocabSize: positiveInt(file, 'text_config.vocab_size', num(file, t, 'vocab_size', 32000), LIMITS.vocabSize),
    rmsNormEps: epsilon(file, 'text_config.rms_norm_eps', num(file, t, 'rms_norm_eps', 1e-6)),
    ropeTheta: ropeTheta(file, t),
    maxPositions: positiveInt(file, 'text_config.max_position_embeddings', num(file, t, 'max_position_embeddings', 2048), LIMITS.maxPositions),
    hiddenAct: str(file, t, 'hidden_act', 'silu'),
  };
  const scaleFactor = positiveInt(file, 'scale_factor', num(file, c, 'scale_factor', 2), LIMITS.scaleFactor);
  const gridSide = vision.imageSize / vision.patchSize;
  if (!Number.isInteger(gridSide) || gridSide % scaleFactor) {
    throw new ModelLoadError(file, `image_size ${vision.imageSize} / patch_size ${vision.patchSize} must be a whole multiple of scale_factor ${scaleFactor}`);
  }
  if (vision.hiddenSize % vision.numHeads) throw new ModelLoadError(file, 'vision hidden_size is not divisible by num_attention_heads');
  if (textConfig.numHeads % textConfig.numKvHeads) throw new ModelLoadError(file, 'num_attention_heads is not a multiple of num_key_value_heads');
  if (vision.patchSize > vision.imageSize) throw new ModelLoadError(file, `vision_config.patch_size ${vision.patchSize} is larger than image_size ${vision.imageSize}`);
  if (textConfig.numKvHeads > textConfig.numHeads) throw new ModelLoadError(file, `text_config.num_key_value_heads ${textConfig.numKvHeads} exceeds num_attention_heads ${textConfig.numHeads}`);
  if (!(textConfig.ropeTheta > 0)) throw new ModelLoadError(file, `text_config.rope_theta must be positive, got ${textConfig.ropeTheta}`);
  const parameters = impliedParameters(vision, textConfig, scaleFactor);
  if (parameters > LIMITS.parameters) {
    throw new ModelLoadError(file, `its sizes imply ${(parameters / 1e9).toFixed(1)} billion weights, more than the ${LIMITS.parameters / 1e9} billion this runtime loads`);
  }
  if (vision.hiddenAct !== 'gelu_pytorch_tanh') throw new UnsupportedModelError(`${file}: vision hidden_act "${vision.hiddenAct}" is not supported`);
  if (textConfig.hiddenAct !== 'silu') throw new UnsupportedModelError(`${file}: text hidden_act "${textConfig.hiddenAct}" is not supported`);
  const imageTokenId = positiveInt(file, 'image_token_id', num(file, c, 'image_token_id', 128257), LIMITS.vocabSize);
  // the image token's row of the embedding table is read (then replaced) for every image token
  if (imageTokenId >= textConfig.vocabSize) throw new ModelLoadError(file, `image_token_id ${imageTokenId} is outside the vocabulary (text_config.vocab_size ${textConfig.vocabSize})`);
  return {
    modelType,
    imageTokenId,
    scaleFactor,
    tieWordEmbeddings: c.tie_word_embeddings === true,
    vision,
    text: textConfig,
    imageSeqLen: (gridSide / scaleFactor) ** 2,
  };
}
