import type { GpuDevice } from '../gpu/device';
import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import type { Precision } from '../kernels/common';
import { argmax, readTokenId, sampleTopP, type SamplingOptions } from '../kernels/sampling';
import { Random } from '../reference/random';
import { argmaxRef, sampleRef, type SampleRefResult } from '../reference/sampling';
import type { CheckResult, KernelCheck } from './types';

// Token ids must be EQUAL to the reference's. The kernels use one 256-thread workgroup: 49280
// (SmolVLM's vocabulary), 1000 and 999 are not multiples of 256, 512 is. Rows after the first and
// outIndex > 0 check the offsets; V = 999 on a second row starts f16 logits at an odd element.

const SMOLVLM_VOCAB = 49280;

interface Case {
  name: string;
  vocab: number;
  /** Rows of the logits tensor; the kernel reads `row` (default: the last). */
  rows?: number;
  row?: number;
  outIndex?: number;
  seed: number;
  /** Std of the normal logits: larger concentrates the softmax on fewer tokens. */
  std?: number;
  /**
   * Logits in decreasing order: the kept set is then a prefix, and u ≈ 1 draws its last token, so
   * the id tells the kept count exactly (a random order would hide a kept set off by one token).
   */
  sorted?: boolean;
  /** Indices set to a value above every other logit (several = a tie for the maximum). */
  planted?: number[];
  sampling?: Omit<SamplingOptions, 'row' | 'outIndex' | 'u'> & { u: number };
  /** The reference must also pick the argmax (top_p tiny, top_k = 1): guards the case itself. */
  expectArgmax?: boolean;
}

const ARGMAX_CASES: Case[] = [
  { name: `argmax ${SMOLVLM_VOCAB} planted max`, vocab: SMOLVLM_VOCAB, seed: 11, planted: [31337] },
  // 555 sits in a lower thread than 300 (555 mod 256 = 43 < 44): the tree must still pick 300.
  { name: 'argmax 1000 planted tie', vocab: 1000, seed: 12, planted: [555, 300, 999] },
  { name: 'argmax 1', vocab: 1, seed: 13 },
  { name: 'argmax 512 row 1 of 3, outIndex 2', vocab: 512, rows: 3, row: 1, outIndex: 2, seed: 14, planted: [511, 256] },
  { name: 'argmax 999 last row of 2', vocab: 999, rows: 2, seed: 15 },
];

const SAMPLE_CASES: Case[] = [
  { name: `sample ${SMOLVLM_VOCAB} T=1 top_p=1 (plain)`, vocab: SMOLVLM_VOCAB, seed: 21, std: 2, sampling: { temperature: 1, topP: 1, u: 0.37 } },
  { name: `sample ${SMOLVLM_VOCAB} T=0.7 top_p=0.9`, vocab: SMOLVLM_VOCAB, seed: 22, std: 2.5, sampling: { temperature: 0.7, topP: 0.9, u: 0.5 } },
  { name: `sample ${SMOLVLM_VOCAB} T=1 top_p=0.8 u≈1`, vocab: SMOLVLM_VOCAB, seed: 23, std: 3, sampling: { temperature: 1, topP: 0.8, u: 0.9999999 } },
  { name: `sample ${SMOLVLM_VOCAB} T=0.8 top_p=0.95 u≈0`, vocab: SMOLVLM_VOCAB, seed: 24, std: 3, sampling: { temperature: 0.8, topP: 0.95, u: 1e-6 } },
  { name: `sample ${SMOLVLM_VOCAB} top_p tiny = argmax`, vocab: SMOLVLM_VOCAB, seed: 25, std: 2, sampling: { temperature: 1, topP: 1e-6, u: 0.6 }, expectArgmax: true },
  { name: `sample ${SMOLVLM_VOCAB} T=0.8 top_k=50 top_p=0.9`, vocab: SMOLVLM_VOCAB, seed: 26, std: 2, sampling: { temperature: 0.8, topK: 50, topP: 0.9, u: 0.3 } },
  { name: 'sample 1000 T=1.3 top_p=0.5 u=0', vocab: 1000, seed: 27, std: 2, sampling: { temperature: 1.3, topP: 0.5, u: 0 } },
  { name: 'sample 1000 T=0.5 top_p=0.7 u≈1', vocab: 1000, seed: 28, std: 1, sampling: { temperature: 0.5, topP: 0.7, u: 0.999999 } },
  { name: 'sample 1000 top_k=1 = argmax', vocab: 1000, seed: 29, sampling: { temperature: 1, topK: 1, u: 0.7 }, expectArgmax: true },
  { name: 'sample 1000 top_p tiny, tied max', vocab: 1000, seed: 30, planted: [700, 200], sampling: { temperature: 1, topP: 1e-6, u: 0.9 } },
  { name: 'sample 512 T=2 top_k=100 row 1 of 3, outIndex 2', vocab: 512, rows: 3, row: 1, outIndex: 2, seed: 31, sampling: { temperature: 2, topK: 100, u: 0.42 } },
  { name: `sample ${SMOLVLM_VOCAB} sorted T=0.8 top_p=0.9 u≈1: last kept`, vocab: SMOLVLM_VOCAB, seed: 33, std: 3, sorted: true, sampling: { temperature: 0.8, topP: 0.9, u: 0.9999999 } },
  { name: 'sample 1000 sorted top_k=50 top_p=0.95 u≈1: last kept', vocab: 1000, seed: 34, std: 2, sorted: true, sampling: { temperature: 1, topK: 50, topP: 0.95, u: 0.9999999 } },
  { name: 'sample 1000 sorted T=1.5 top_k=37 u≈1: last kept', vocab: 1000, seed: 35, sorted: true, sampling: { temperature: 1.5, topK: 37, u: 0.9999999 } },
  { name: 'sample 999 T=0.9 top_p=0.6 last row of 2', vocab: 999, rows: 2, seed: 32, std: 1.5, sampling: { temperature: 0.9, topP: 0.6, u: 0.25 } },
];

function logitsFor(c: Case, precision: Precision): Float32Array {
  const rows = c.rows ?? 1;
  const values = new Random(c.seed).normals(rows * c.vocab, c.std ?? 1);
  if (c.sorted) values.sort().reverse();
  const row = c.row ?? rows - 1;
  let top = 0;
  for (const v of values) top = Math.max(top, v);
  for (const i of c.planted ?? []) values[row * c.vocab + i] = Math.ceil(top) + 1; // exact in f16 too
  return precision === 'f16' ? roundToF16(values) : values;
}

/**
 * The top_p and u a case runs with, and the reference's answer for them. The kernel sums
 * probabilities in f32, which moves cumulative masses by ~1e-7..1e-6 of the total; a top_p or u
 * closer than that to the edge of a step could flip the id without either side being wrong. So a
 * top_p strictly inside (0.01, 1) and a u inside (0.001, 0.999) are moved to the middle of the step
 * they fall in (the same kept set, the same token). u near 0 or 1 and tiny top_p stay as given:
 * the edges they sit by (mass 0, the whole kept mass) are exact on both sides. Both are f32, as
 * the kernel reads them.
 */
function steadySampling(row: Float32Array, s: NonNullable<Case['sampling']>): { ref: SampleRefResult; topP: number; u: number } {
  const middle = (step: [number, number]) => Math.fround((step[0] + step[1]) / 2);
  let topP = Math.fround(s.topP ?? 1);
  let u = Math.fround(s.u);
  let ref = sampleRef(row, { ...s, topP, u });
  if (topP > 0.01 && topP < 1) {
    topP = middle(ref.topPStep);
    ref = sampleRef(row, { ...s, topP, u });
  }
  if (u > 0.001 && u < 0.999) {
    u = middle(ref.drawStep);
    ref = sampleRef(row, { ...s, topP, u });
  }
  return { ref, topP, u };
}

async function runCase(gpu: GpuDevice, precision: Precision, c: Case): Promise<CheckResult> {
  const rows = c.rows ?? 1;
  const row = c.row ?? rows - 1;
  const outIndex = c.outIndex ?? 0;
  const logits = logitsFor(c, precision);
  const rowValues = logits.subarray(row * c.vocab, (row + 1) * c.vocab);

  let expected: number;
  let kept = 0;
  let sampling = c.sampling;
  let detail = '';
  if (sampling) {
    const { ref, topP, u } = steadySampling(rowValues, sampling);
    sampling = { ...sampling, topP, u };
    expected = ref.id;
    kept = ref.kept;
    const interior = (x: number) => (x > 0 && x < 1 ? [x] : []); // 0 and 1 are exact on both sides
    const show = (m: number) => (Number.isFinite(m) ? m.toExponential(1) : '-');
    const topPMargin = Math.min(...interior(ref.topPStep[0]).map((a) => topP - a), ...interior(ref.topPStep[1]).map((b) => b - topP));
    const drawMargin = Math.min(...interior(ref.drawStep[0]).map((a) => u - a), ...interior(ref.drawStep[1]).map((b) => b - u));
    detail = `kept ${ref.kept}, top_p ${topP.toPrecision(6)}, u ${u.toPrecision(7)}, margins: top_p ${show(topPMargin)}, draw ${show(drawMargin)}`;
  } else {
    expected = argmaxRef(rowValues);
  }
  // Guards on the cases themselves, so a change of data cannot quietly make a check toothless.
  if (c.expectArgmax && expected !== argmaxRef(rowValues)) {
    return { maxAbsError: Infinity, tolerance: 'id equal', pass: false, detail: `case is wrong: reference picked ${expected}, not the argmax` };
  }
  if (c.sorted && expected !== kept - 1) {
    return { maxAbsError: Infinity, tolerance: 'id equal', pass: false, detail: `case is wrong: reference picked ${expected}, not the last kept token (${detail})` };
  }

  const shape = rows > 1 ? [rows, c.vocab] : [c.vocab];
  const tLogits = Tensor.from(gpu, logits, shape, precision);
  const outId = Tensor.from(gpu, new Uint32Array(outIndex + 2).fill(0xdeadbeef), [outIndex + 2], 'u32');
  const rec = new CommandRecorder(gpu);
  const slot = { row: c.row, outIndex: c.outIndex };
  if (sampling) sampleTopP(rec, tLogits, outId, { ...sampling, ...slot });
  else argmax(rec, tLogits, outId, slot);
  rec.submit();
  const id = await readTokenId(outId, outIndex);
  const neighbour = await readTokenId(outId, outIndex + 1);
  // the same draw read from a buffer (U_FROM_DRAWS, as generateGreedy samples): the same id
  let fromDraws = id;
  if (sampling) {
    const draws = Tensor.from(gpu, new Float32Array([sampling.u]), [1], 'f32');
    const again = new CommandRecorder(gpu);
    sampleTopP(again, tLogits, outId, { ...sampling, ...slot, u: draws });
    again.submit();
    fromDraws = await readTokenId(outId, outIndex);
    draws.destroy();
  }
  tLogits.destroy();
  outId.destroy();

  const untouched = neighbour === 0xdeadbeef;
  return {
    maxAbsError: Math.max(Math.abs(id - expected), Math.abs(fromDraws - expected)),
    tolerance: 'id equal',
    pass: id === expected && fromDraws === expected && untouched,
    detail: `id ${id}${fromDraws === id ? '' : `, ${fromDraws} with the draw from a buffer`} (reference ${expected})${detail ? `; ${detail}` : ''}${untouched ? '' : '; wrote past outIndex'}`,
  };
}

export const samplingChecks: KernelCheck[] = [...ARGMAX_CASES, ...SAMPLE_CASES].map((c) => ({
  name: c.name,
  family: 'sampling',
  run: (gpu, precision) => runCase(gpu, precision, c),
}));
