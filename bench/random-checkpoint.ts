/**
 * A checkpoint of random weights for a SmolVlmConfig, for benchmarks at real sizes without
 * downloading a model. It is a real safetensors file built in memory (F16 tensors) and opened with
 * Checkpoint.open through a ModelSource that serves those bytes: the loaders then run exactly the
 * code path a hub checkpoint takes (header parsing, shape checks, f16 → f32, packing, upload).
 *
 * Values: Linear / embedding / conv weights and Linear biases ~ N(0, 0.02²); norm weights 1,
 * LayerNorm biases 0. Speed does not depend on the values; these keep f16 activations finite.
 */
import { f32ToF16Bits } from '../src/gpu/f16';
import { Checkpoint } from '../src/model/checkpoint';
import type { SmolVlmConfig } from '../src/model/config';
import { CONNECTOR_WEIGHT } from '../src/model/connector';
import type { ModelSource } from '../src/model/source';

export interface TensorSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'ones' | 'zeros';
}

/** Every tensor the vision tower, connector and text model load, with its shape (HF layout). */
export function smolVlmTensors(config: SmolVlmConfig): TensorSpec[] {
  const out: TensorSpec[] = [];
  const t = (name: string, shape: number[], init: TensorSpec['init'] = 'normal') => out.push({ name, shape, init });
  const v = config.vision;
  const H = v.hiddenSize;
  const side = v.imageSize / v.patchSize;
  const vp = 'model.vision_model';
  t(`${vp}.embeddings.patch_embedding.weight`, [H, v.numChannels, v.patchSize, v.patchSize]);
  t(`${vp}.embeddings.patch_embedding.bias`, [H]);
  t(`${vp}.embeddings.position_embedding.weight`, [side * side, H]);
  for (let i = 0; i < v.numLayers; i++) {
    const l = `${vp}.encoder.layers.${i}`;
    t(`${l}.layer_norm1.weight`, [H], 'ones');
    t(`${l}.layer_norm1.bias`, [H], 'zeros');
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      t(`${l}.self_attn.${p}.weight`, [H, H]);
      t(`${l}.self_attn.${p}.bias`, [H]);
    }
    t(`${l}.layer_norm2.weight`, [H], 'ones');
    t(`${l}.layer_norm2.bias`, [H], 'zeros');
    t(`${l}.mlp.fc1.weight`, [v.intermediateSize, H]);
    t(`${l}.mlp.fc1.bias`, [v.intermediateSize]);
    t(`${l}.mlp.fc2.weight`, [H, v.intermediateSize]);
    t(`${l}.mlp.fc2.bias`, [H]);
  }
  t(`${vp}.post_layernorm.weight`, [H], 'ones');
  t(`${vp}.post_layernorm.bias`, [H], 'zeros');

  const x = config.text;
  t(`${CONNECTOR_WEIGHT}.weight`, [x.hiddenSize, H * config.scaleFactor ** 2]);
  const tp = 'model.text_model';
  t(`${tp}.embed_tokens.weight`, [x.vocabSize, x.hiddenSize]);
  const q = x.numHeads * x.headDim;
  const kv = x.numKvHeads * x.headDim;
  for (let i = 0; i < x.numLayers; i++) {
    const l = `${tp}.layers.${i}`;
    t(`${l}.input_layernorm.weight`, [x.hiddenSize], 'ones');
    t(`${l}.self_attn.q_proj.weight`, [q, x.hiddenSize]);
    t(`${l}.self_attn.k_proj.weight`, [kv, x.hiddenSize]);
    t(`${l}.self_attn.v_proj.weight`, [kv, x.hiddenSize]);
    t(`${l}.self_attn.o_proj.weight`, [x.hiddenSize, q]);
    t(`${l}.post_attention_layernorm.weight`, [x.hiddenSize], 'ones');
    t(`${l}.mlp.gate_proj.weight`, [x.intermediateSize, x.hiddenSize]);
    t(`${l}.mlp.up_proj.weight`, [x.intermediateSize, x.hiddenSize]);
    t(`${l}.mlp.down_proj.weight`, [x.hiddenSize, x.intermediateSize]);
  }
  t(`${tp}.norm.weight`, [x.hiddenSize], 'ones');
  if (!config.tieWordEmbeddings) t('lm_head.weight', [x.vocabSize, x.hiddenSize]);
  return out;
}

export function parameterCount(tensors: readonly TensorSpec[]): number {
  return tensors.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * N(0, std²) samples as f16 bit patterns: a table of 64 Ki Box–Muller samples indexed by a
 * xorshift generator. Hundreds of millions of values in a few seconds, reproducible from the seed.
 */
function normalF16Filler(std: number, seed: number): (dst: Uint16Array) => void {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const table = new Uint16Array(1 << 16);
  for (let i = 0; i < table.length; i += 2) {
    const u1 = (next() + 1) / 4294967297;
    const u2 = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1)) * std;
    table[i] = f32ToF16Bits(r * Math.cos(2 * Math.PI * u2));
    table[i + 1] = f32ToF16Bits(r * Math.sin(2 * Math.PI * u2));
  }
  return (dst) => {
    for (let i = 0; i < dst.length; i++) dst[i] = table[next() & 0xffff];
  };
}

/** A safetensors file (all tensors F16) holding random values for `tensors`. */
export function randomSafetensors(tensors: readonly TensorSpec[], options: { std?: number; seed?: number } = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'random weights for benchmarks' } };
  let offset = 0;
  for (const s of tensors) {
    const bytes = s.shape.reduce((a, b) => a * b, 1) * 2;
    header[s.name] = { dtype: 'F16', shape: s.shape, data_offsets: [offset, offset + bytes] };
    // 4-byte aligned starts so toFloat32 can view the bytes without a copy
    offset += bytes + (bytes % 4);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // safetensors pads the header with spaces to 8 bytes
  const headerBytes = new Uint8Array(padded).fill(0x20);
  headerBytes.set(json);
  json = headerBytes;
  const file = new Uint8Array(8 + json.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  const dataStart = 8 + json.length;
  const fill = normalF16Filler(options.std ?? 0.02, options.seed ?? 1);
  const ONE = f32ToF16Bits(1);
  for (const s of tensors) {
    const [begin, end] = (header[s.name] as { data_offsets: [number, number] }).data_offsets;
    const values = new Uint16Array(file.buffer, dataStart + begin, (end - begin) / 2);
    if (s.init === 'normal') fill(values);
    else if (s.init === 'ones') values.fill(ONE);
    // zeros: the buffer is zero-filled already
  }
  return file;
}

/** A ModelSource serving in-memory files (everything else is "not found"). */
export class MemorySource implements ModelSource {
  readonly location = 'memory';
  constructor(private readonly files: Record<string, Uint8Array>) {}

  async bytes(name: string): Promise<Uint8Array | null> {
    return this.files[name] ?? null;
  }
}

/** Opens a random-weight checkpoint for `config` through the real Checkpoint loader. */
export async function randomCheckpoint(config: SmolVlmConfig, options: { std?: number; seed?: number } = {}): Promise<{ checkpoint: Checkpoint; parameters: number; fileBytes: number }> {
  const tensors = smolVlmTensors(config);
  const file = randomSafetensors(tensors, options);
  const checkpoint = await Checkpoint.open(new MemorySource({ 'model.safetensors': file }));
  return { checkpoint, parameters: parameterCount(tensors), fileBytes: file.byteLength };
}
