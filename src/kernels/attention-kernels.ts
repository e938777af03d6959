/**
 * Contracts of the attention shaders (shaders/attention_prefill.wgsl, attention_decode.wgsl and
 * their shared attention_io.wgsl): one uniform block and one binding set for both, and each
 * kernel's workgroup and tile constants, declared once; attention.ts dispatches them.
 */
import decodeSource from '../../shaders/attention_decode.wgsl?raw';
import ioSource from '../../shaders/attention_io.wgsl?raw';
import prefillSource from '../../shaders/attention_prefill.wgsl?raw';
import splitMergeSource from '../../shaders/split_merge.wgsl?raw';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';

/**
 * Variants: KV_PACKED (f16 K/V read as packed pairs by f32 math, no shader-f16 needed), ROPE (keys
 * rotated from k_positions while loaded), SPLIT (keys split over workgroups; partials merged by
 * the decode shader's `combine`), ROTATE_Q (decode only: queries rotated from q_positions as they
 * are read, saving a decode step its separate RoPE dispatch per layer).
 */
const ATTENTION_DEFINES = ['KV_PACKED', 'ROPE', 'SPLIT', 'ROTATE_Q'] as const;
export type AttentionDefine = (typeof ATTENTION_DEFINES)[number];

/** Values of the `mask_kind` uniform, as constants of both shaders. */
export const MASK_KINDS = { MASK_BIDIRECTIONAL: 0, MASK_CAUSAL: 1, MASK_SINKS_WINDOW: 2 } as const;

const ATTENTION_UNIFORMS = {
  tq: 'u32',
  keys: 'u32', // valid keys S
  hq: 'u32',
  hkv: 'u32',
  q_start: 'u32', // cache index of query 0 (causal masks)
  mask_kind: 'u32', // 0 bidirectional, 1 causal, 2 sinks + window (causal too)
  sinks: 'u32',
  window: 'u32',
  scale: 'f32',
  keys_per_split: 'u32',
  splits: 'u32',
  max_positions: 'u32', // rows of the RoPE table
} as const;

const kvType = (d: Readonly<Record<string, boolean>>) => (d.KV_PACKED ? 'array<vec2<u32>>' /* one vec2<u32> = 4 f16 values */ : 'array<act4>');

const ATTENTION_BINDINGS = {
  q: read('array<act4>'),
  k: read(kvType),
  v: read(kvType),
  k_positions: read('array<u32>'),
  // ROTATE_Q only: the position of each query row
  q_positions: read('array<u32>'),
  rope_table: read('array<vec4<f32>>'),
  out: readWrite('array<act4>'),
  // per (query, q head, split or chunk): D/4 vec4 of acc, then vec4(m, l, 0, 0)
  partials: readWrite('array<vec4<f32>>'),
} as const;

/** Flash-style attention for many queries. */
export const attentionPrefillKernel = defineKernel({
  name: 'attention_prefill',
  body: [prefillSource, ioSource],
  uniforms: ATTENTION_UNIFORMS,
  bindings: ATTENTION_BINDINGS,
  constants: {
    MAX_D4: 32, // HEAD_DIM / 4 at most
    TILE_VEC4: 512, // 8 KiB each for the K and the V tile
    ...MASK_KINDS,
  },
  overrides: {
    HEAD_DIM: 64, // multiple of 8, at most 128
    ROWS: 64, // query rows per workgroup (= threads)
    KEYS_PER_TILE: 32, // keys per K/V tile, a multiple of 4; KEYS_PER_TILE · HEAD_DIM ≤ 4 · TILE_VEC4
  },
  defines: ATTENTION_DEFINES,
});

/** Attention for a few queries against a long cache, and `combine` of split partials. */
export const attentionDecodeKernel = defineKernel({
  name: 'attention_decode',
  body: [decodeSource, ioSource, splitMergeSource],
  uniforms: ATTENTION_UNIFORMS,
  bindings: ATTENTION_BINDINGS,
  constants: {
    WG: 128,
    MAX_ROWS: 32, // Tq·G at most; also ≤ ACC_SLOTS · WG / (HEAD_DIM/4)
    ACC_SLOTS: 4, // rows one thread accumulates
    TILE_VEC4: 256, // 4 KiB each for the K and the V tile
    ...MASK_KINDS,
  },
  overrides: {
    HEAD_DIM: 64, // multiple of 8, at most 128
    KEYS_PER_TILE: 16, // KEYS_PER_TILE · HEAD_DIM ≤ 4 · TILE_VEC4, ≤ 32
    COMBINE_THREADS: 128, // combine's workgroup: a power of two ≤ WG (attention.ts, combineThreads)
  },
  defines: ATTENTION_DEFINES,
});
