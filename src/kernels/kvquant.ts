import source from '../../shaders/kvquant.wgsl?raw';
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { dispatchKernel, grid, type KernelCall } from './common';
import { KEY_GROUP_CHOICES, KEY_GROUP_TOKENS, KV_BITS, VALUE_GROUP_CHANNELS, keyCodeOffset, kvQuantPartLayout, type KvBits, type KvPartKind, type KvQuantPartLayout } from './kvquant-layout';

/**
 * KIVI-style KV quantization of a block of T tokens × C channels (C = kv_heads · head_dim, a
 * multiple of 32). Keys: per channel, groups of KG = 128 tokens (32 in blocks saved by memory
 * format 2; a block says which); values: per token, groups of VG = 32 channels; asymmetric,
 * x ≈ min + code · scale, code ∈ [0, 2^bits − 1]. Why these groups: kvquant-layout.ts.
 *
 * GPU layout of one part (all u32 words):
 *   keys   codes  [floor(T/KG)][C][KG·bits/32], then [C][ceil((T mod KG)·bits/32)] for a partial
 *          last group (keyCodeOffset, kvquant-layout.ts)      params [ceil(T/KG)][C]
 *   values codes  [T][C/VG][VG·bits/32]                        params [T][C/VG]
 * A group's codes fill its words in order: element j (token for keys, channel for values, within
 * its group) is in word j / (32/bits), bits (j % (32/bits))·bits upwards; unused high bits of a
 * partial group's last word are 0. A param word is the f16 pair (scale, min): scale in the
 * low half, min in the high half (unpack2x16float(word) = vec2(scale, min)).
 * `shaders/kvquant.wgsl` explains why the codes are exact and the error is at most scale/2.
 */
// the layout arithmetic lives in kvquant-layout.ts (no shader import), so the memory-file parsers run in plain Node
export { KEY_GROUP_CHOICES, KEY_GROUP_TOKENS, KV_BITS, VALUE_GROUP_CHANNELS, keyCodeOffset, kvQuantPartLayout, type KvBits, type KvPartKind, type KvQuantPartLayout };

export interface KvQuantPart extends KvQuantPartLayout {
  codes: Tensor; // u32 [codeWords]
  params: Tensor; // u32 [paramWords]
}

/** One frame block's quantized keys and values (for one layer, or whatever slice the caller keeps). */
export interface KvQuantBlock {
  tokens: number;
  channels: number;
  keys: KvQuantPart;
  values: KvQuantPart;
  /** keys.bytes + values.bytes. */
  bytes: number;
}

/** Host copy of a block, as stored in RAM/OPFS; `createKvQuantBlock` uploads it again. */
export interface KvQuantBlockData {
  keyCodes: Uint32Array;
  keyParams: Uint32Array;
  valueCodes: Uint32Array;
  valueParams: Uint32Array;
}

export interface KvQuantBlockSpec {
  tokens: number;
  channels: number;
  keyBits: KvBits;
  /** Defaults to keyBits (e.g. K8/V4 is a fallback for small models). */
  valueBits?: KvBits;
  /** Tokens per key group: KEY_GROUP_TOKENS (the default) or another of KEY_GROUP_CHOICES. */
  keyGroup?: number;
}

/** Bytes of a quantized block of `tokens` × `channels` keys and values (codes + params). */
export function kvQuantBlockBytes(tokens: number, channels: number, keyBits: KvBits, valueBits: KvBits = keyBits, keyGroup: number = KEY_GROUP_TOKENS): number {
  return kvQuantPartLayout('keys', tokens, channels, keyBits, keyGroup).bytes + kvQuantPartLayout('values', tokens, channels, valueBits).bytes;
}

function createPart(gpu: GpuDevice, layout: KvQuantPartLayout, codes?: Uint32Array, params?: Uint32Array): KvQuantPart {
  const label = `kv ${layout.kind} ${layout.bits}-bit`;
  const make = (data: Uint32Array | undefined, words: number, what: string) => {
    if (!data) return Tensor.empty(gpu, [words], 'u32', `${label} ${what}`);
    if (data.length !== words) throw new InputError(`kvquant: ${label} ${what} has ${data.length} words, the layout needs ${words}`);
    return Tensor.from(gpu, data, [words], 'u32', `${label} ${what}`);
  };
  return { ...layout, codes: make(codes, layout.codeWords, 'codes'), params: make(params, layout.paramWords, 'params') };
}

/** Allocates a block's tensors (zeroed), or uploads a host copy of one. */
export function createKvQuantBlock(gpu: GpuDevice, spec: KvQuantBlockSpec, data?: KvQuantBlockData): KvQuantBlock {
  const { tokens, channels, keyBits, valueBits = keyBits, keyGroup = KEY_GROUP_TOKENS } = spec;
  const keys = createPart(gpu, kvQuantPartLayout('keys', tokens, channels, keyBits, keyGroup), data?.keyCodes, data?.keyParams);
  const values = createPart(gpu, kvQuantPartLayout('values', tokens, channels, valueBits), data?.valueCodes, data?.valueParams);
  return { tokens, channels, keys, values, bytes: keys.bytes + values.bytes };
}

/** Reads a block back to the host (one readback per tensor; not for the per-token path). */
export async function readKvQuantBlock(block: KvQuantBlock): Promise<KvQuantBlockData> {
  const [keyCodes, keyParams, valueCodes, valueParams] = await Promise.all(
    [block.keys.codes, block.keys.params, block.values.codes, block.values.params].map(async (t) => (await t.read()) as Uint32Array),
  );
  return { keyCodes, keyParams, valueCodes, valueParams };
}

export function destroyKvQuantBlock(block: KvQuantBlock): void {
  for (const part of [block.keys, block.values]) {
    part.codes.destroy();
    part.params.destroy();
  }
}

export interface KvRowOptions {
  /** Row of the act tensor where the block's first token is (default 0): a block inside a longer cache. */
  row?: number;
}

/** One module, four entry points: quantize_keys / quantize_values write codes and params, dequantize_* read them. */
const kvQuantKernel = defineKernel({
  name: 'kvquant',
  body: [source],
  uniforms: {
    tokens: 'u32', // T
    channels: 'u32', // C
    row_offset: 'u32', // first row of the block in the act tensor (source or destination)
    inv_levels: 'f32', // f32(1 / (2^BITS − 1)), computed on the host
  },
  bindings: {
    src: read('array<act>'), // [rows, C], the block at row_offset
    codes_out: readWrite('array<u32>'),
    params_out: readWrite('array<u32>'),
    codes_in: read('array<u32>'),
    params_in: read('array<u32>'),
    dst: readWrite('array<act>'), // [rows, C], the block at row_offset
  },
  constants: { QUANT_WG: 64, DEQUANT_WG: 256 },
  overrides: {
    BITS: 4,
    // tokens per key group: the block's (KEY_GROUP_TOKENS, or 32 in format-2 memories)
    KEY_GROUP: 128,
    VALUE_GROUP: 32, // channels per value group (VALUE_GROUP_CHANNELS), divides C
  },
});
const { QUANT_WG, DEQUANT_WG } = kvQuantKernel.constants;
type KvQuantOverrides = NonNullable<typeof kvQuantKernel.declaration.overrides>;

/** Checks the act tensor holds rows [row, row + tokens) of width `channels`; returns the precision. */
function checkAct(what: string, t: Tensor, part: KvQuantPart, row: number): 'f32' | 'f16' {
  if (t.dtype !== 'f32' && t.dtype !== 'f16') throw new InputError(`${what}: expected an f32 or f16 activation tensor, got ${t.dtype}`);
  const width = t.shape[t.shape.length - 1];
  if (width !== part.channels) throw new InputError(`${what}: rows of ${width} channels, the block has ${part.channels}`);
  if (!Number.isInteger(row) || row < 0) throw new InputError(`${what}: row must be a non-negative integer, got ${row}`);
  const rows = t.size / width;
  if (row + part.tokens > rows) throw new InputError(`${what}: rows [${row}, ${row + part.tokens}) do not fit a tensor of ${rows} rows`);
  return t.dtype;
}

function uniforms(part: KvQuantPart, row: number) {
  // 1/levels rounded to f32 here: the shader multiplies by it (WGSL division is not correctly
  // rounded) and the reference does the same
  return { tokens: part.tokens, channels: part.channels, row_offset: row, inv_levels: Math.fround(1 / (2 ** part.bits - 1)) };
}

/** Validates a quantize/dequantize call and returns its variant (one module, four entry points). */
function kvCall(op: 'quantize' | 'dequantize', kind: KvPartKind, act: Tensor, part: KvQuantPart, row: number): KernelCall<never, KvQuantOverrides> {
  const what = `${op}${kind === 'keys' ? 'Keys' : 'Values'}`;
  if (part.kind !== kind) throw new InputError(`${what}: got the block's ${part.kind} part`);
  const precision = checkAct(what, act, part, row);
  return {
    precision,
    // a values pipeline does not depend on the key group: always the default, one pipeline
    overrides: { BITS: part.bits, KEY_GROUP: kind === 'keys' ? part.groupSize : KEY_GROUP_TOKENS, VALUE_GROUP: VALUE_GROUP_CHANNELS },
    entryPoint: `${op}_${kind}`,
  };
}

function quantize(rec: CommandRecorder, kind: KvPartKind, src: Tensor, part: KvQuantPart, options: KvRowOptions): void {
  const row = options.row ?? 0;
  const call = kvCall('quantize', kind, src, part, row);
  const bindings = { src, codes_out: part.codes, params_out: part.params };
  dispatchKernel(rec, kvQuantKernel, call, uniforms(part, row), bindings, grid(rec.gpu, Math.ceil(part.groups / QUANT_WG)));
}

function dequantize(rec: CommandRecorder, kind: KvPartKind, part: KvQuantPart, dst: Tensor, options: KvRowOptions): void {
  const row = options.row ?? 0;
  const call = kvCall('dequantize', kind, dst, part, row);
  const elements = part.tokens * part.channels;
  const bindings = { codes_in: part.codes, params_in: part.params, dst };
  dispatchKernel(rec, kvQuantKernel, call, uniforms(part, row), bindings, grid(rec.gpu, Math.ceil(elements / DEQUANT_WG)));
}

/** Quantizes keys act [≥ row + T, C] (rows row … row+T−1) into block.keys. */
export function quantizeKeys(rec: CommandRecorder, keys: Tensor, block: KvQuantBlock, options: KvRowOptions = {}): void {
  quantize(rec, 'keys', keys, block.keys, options);
}

/** Quantizes values act [≥ row + T, C] (rows row … row+T−1) into block.values. */
export function quantizeValues(rec: CommandRecorder, values: Tensor, block: KvQuantBlock, options: KvRowOptions = {}): void {
  quantize(rec, 'values', values, block.values, options);
}

/** Writes block.keys, dequantized, into rows row … row+T−1 of out act [≥ row + T, C]. */
export function dequantizeKeys(rec: CommandRecorder, block: KvQuantBlock, out: Tensor, options: KvRowOptions = {}): void {
  dequantize(rec, 'keys', block.keys, out, options);
}

/** Writes block.values, dequantized, into rows row … row+T−1 of out act [≥ row + T, C]. */
export function dequantizeValues(rec: CommandRecorder, block: KvQuantBlock, out: Tensor, options: KvRowOptions = {}): void {
  dequantize(rec, 'values', block.values, out, options);
}
