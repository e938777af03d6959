import source from '../../shaders/sampling.wgsl?raw';
import { InputError } from '../errors';
import { defineKernel, read, readWrite } from '../gpu/kernel-contract';
import type { CommandRecorder } from '../gpu/recorder';
import { readBuffer, type Tensor } from '../gpu/tensor';
import { dispatchKernel, type Precision } from './common';

/**
 * Token selection on the GPU: greedy (`argmax`) or temperature / top-k / top-p sampling
 * (`sampleTopP`). Both read one row of a logits tensor — shape [V] or [T, V], f32 or f16 — and
 * write the chosen id into a u32 tensor, so a decode step reads back 4 bytes (`readTokenId`) or
 * hands the id to the next step's embedding lookup without leaving the GPU. Each call is one
 * dispatch of one workgroup.
 */

/** Where to read and write: the logits row and the element of `outId` that gets the id. */
export interface TokenSlot {
  /** Row of a [..., V] logits tensor; defaults to the last row (the newest position after a prefill). */
  row?: number;
  /** Element of `outId` written; defaults to 0. */
  outIndex?: number;
}

export interface SamplingOptions extends TokenSlot {
  /** Logits are divided by it before the softmax (transformers' TemperatureLogitsWarper); > 0. */
  temperature: number;
  /**
   * Nucleus: keep the smallest set of most probable tokens whose probability reaches `topP`
   * (always at least one; tokens tied with the last one kept stay too). In [0, 1]; 1 = off (default).
   */
  topP?: number;
  /** Keep the `topK` largest logits (and any tied with the k-th) before top-p; 0 = off (default). */
  topK?: number;
  /**
   * The uniform draw in [0, 1), from the caller's seeded generator (used as an f32). The token
   * picked is the first kept one, in index order, whose cumulative renormalised probability
   * exceeds `u`. Or an f32 tensor whose element 0 the caller writes with the draw before the
   * recorder is submitted (a queue write is ordered with the submits around it): the recorded
   * commands then do not change with the draw, so decode steps can be recorded from a step plan.
   */
  u: number | Tensor;
}

const WORKGROUP = 1; // one workgroup per row: see shaders/sampling.wgsl

const samplingKernel = defineKernel({
  name: 'sampling',
  body: [source],
  uniforms: {
    vocab: 'u32', // V, the row length
    offset: 'u32', // element index of the row's first logit (row · V)
    out_index: 'u32', // element of out_id that receives the chosen id
    top_k: 'u32', // 0 (or ≥ V) = off
    inv_temperature: 'f32', // 1 / temperature
    top_p: 'f32', // ≥ 1 = off
    u: 'f32', // the uniform draw, in [0, 1)
  },
  bindings: { logits: read('array<act>'), out_id: readWrite('array<u32>'), draws: read('array<f32>') },
  constants: { WG: 256 },
  defines: ['U_FROM_DRAWS'],
});

type SamplingFilters = { top_k: number; inv_temperature: number; top_p: number; u: number };

interface Row {
  vocab: number;
  offset: number;
  outIndex: number;
  precision: Precision;
}

function locateRow(what: string, logits: Tensor, outId: Tensor, slot: TokenSlot): Row {
  if (logits.dtype !== 'f32' && logits.dtype !== 'f16') throw new InputError(`${what}: logits must be f32 or f16, got ${logits.dtype}`);
  if (outId.dtype !== 'u32') throw new InputError(`${what}: the token id tensor must be u32, got ${outId.dtype}`);
  const vocab = logits.shape[logits.shape.length - 1] ?? 0;
  if (logits.shape.length === 0 || vocab < 1) throw new InputError(`${what}: logits shape [${logits.shape.join(', ')}] has no vocabulary axis`);
  const rows = logits.size / vocab;
  const row = slot.row ?? rows - 1;
  if (!Number.isInteger(row) || row < 0 || row >= rows) throw new InputError(`${what}: row ${row} is outside the ${rows} rows of the logits`);
  const outIndex = slot.outIndex ?? 0;
  if (!Number.isInteger(outIndex) || outIndex < 0 || outIndex >= outId.size) {
    throw new InputError(`${what}: outIndex ${outIndex} is outside the ${outId.size}-element id tensor`);
  }
  // f32 logits take the f32 variant even on f16 devices: sampling math is f32 in both variants,
  // so the variant only decides how logits are read.
  return { vocab, offset: row * vocab, outIndex, precision: logits.dtype };
}

/** Greedy decoding: outId[outIndex] = argmax of the row; ties go to the lowest index (torch.argmax). */
export function argmax(rec: CommandRecorder, logits: Tensor, outId: Tensor, slot: TokenSlot = {}): void {
  const row = locateRow('argmax', logits, outId, slot);
  dispatchSampling(rec, 'argmax', row, { top_k: 0, inv_temperature: 1, top_p: 1, u: 0 }, logits, outId);
}

/**
 * Sampling as transformers' `generate(do_sample=True)` filters it: logits / temperature → top-k →
 * softmax → top-p → draw with `u`. outId[outIndex] = the drawn id.
 */
export function sampleTopP(rec: CommandRecorder, logits: Tensor, outId: Tensor, options: SamplingOptions): void {
  const row = locateRow('sampleTopP', logits, outId, options);
  const { temperature, topP = 1, topK = 0, u } = options;
  const invTemperature = Math.fround(1 / temperature);
  if (!(temperature > 0) || !Number.isFinite(invTemperature)) {
    throw new InputError(`sampleTopP: temperature must be > 0 (got ${temperature}); for greedy decoding use argmax`);
  }
  if (!(topP >= 0 && topP <= 1)) throw new InputError(`sampleTopP: topP must be in [0, 1], got ${topP}`);
  if (!Number.isInteger(topK) || topK < 0) throw new InputError(`sampleTopP: topK must be a non-negative integer, got ${topK}`);
  if (typeof u === 'number') {
    if (!(u >= 0 && u < 1)) throw new InputError(`sampleTopP: u must be a uniform draw in [0, 1), got ${u}`);
    dispatchSampling(rec, 'sample', row, { top_k: topK, inv_temperature: invTemperature, top_p: topP, u }, logits, outId);
    return;
  }
  if (u.dtype !== 'f32' || u.size < 1) throw new InputError(`sampleTopP: u must be a number or an f32 tensor holding the draw, got ${u.dtype} [${u.shape.join(', ')}]`);
  dispatchSampling(rec, 'sample', row, { top_k: topK, inv_temperature: invTemperature, top_p: topP, u: 0 }, logits, outId, u);
}

/** Reads outId[index] back (4 bytes). Call after the recorder that wrote it was submitted. */
export async function readTokenId(outId: Tensor, index = 0): Promise<number> {
  if (outId.dtype !== 'u32') throw new InputError(`readTokenId: the token id tensor must be u32, got ${outId.dtype}`);
  if (!Number.isInteger(index) || index < 0 || index >= outId.size) throw new InputError(`readTokenId: index ${index} is outside the ${outId.size}-element tensor`);
  const bytes = await readBuffer(outId.gpu, outId.buffer, index * 4, 4);
  return new Uint32Array(bytes)[0];
}

function dispatchSampling(rec: CommandRecorder, entryPoint: 'argmax' | 'sample', row: Row, filters: SamplingFilters, logits: Tensor, outId: Tensor, draws?: Tensor): void {
  const uniforms = { vocab: row.vocab, offset: row.offset, out_index: row.outIndex, ...filters };
  const call = { precision: row.precision, entryPoint, variant: { U_FROM_DRAWS: draws !== undefined } };
  dispatchKernel(rec, samplingKernel, call, uniforms, { logits, out_id: outId, draws }, [WORKGROUP]);
}
