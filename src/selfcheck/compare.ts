import type { CheckResult } from './types';

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Tolerances by math precision: f16 keeps ~3 significant digits. */
export const TOLERANCE: Record<'f32' | 'f16', Tolerance> = {
  f32: { atol: 1e-5, rtol: 1e-4 },
  f16: { atol: 2e-3, rtol: 1e-2 },
};

/** Element-wise |actual − expected| ≤ atol + rtol·|expected|, over every element. */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): CheckResult {
  let maxAbsError = 0;
  let failures = 0;
  let firstFailure = -1;
  if (actual.length < expected.length) {
    return { maxAbsError: Infinity, tolerance: '', pass: false, detail: `got ${actual.length} values, expected ${expected.length}` };
  }
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const bad = !(err <= tol.atol + tol.rtol * Math.abs(expected[i])); // NaN fails
    if (bad) {
      failures++;
      if (firstFailure < 0) firstFailure = i;
    }
    if (err > maxAbsError || Number.isNaN(err)) maxAbsError = Number.isNaN(err) ? Infinity : err;
  }
  return {
    maxAbsError,
    tolerance: `|e| ≤ ${tol.atol} + ${tol.rtol}·|ref|`,
    pass: failures === 0,
    detail:
      failures === 0
        ? undefined
        : `${failures}/${expected.length} out of tolerance; first at ${firstFailure}: got ${actual[firstFailure]}, expected ${expected[firstFailure]}`,
  };
}

/**
 * Two GPU paths that must give the same bits (a fused kernel against the kernels it replaces):
 * passes only when every element is identical (Object.is: -0 and NaN patterns count too).
 */
export function compareExact(actual: ArrayLike<number>, expected: ArrayLike<number>): CheckResult {
  let differing = 0;
  let maxAbsError = 0;
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) differing++;
    maxAbsError = Math.max(maxAbsError, Math.abs(actual[i] - expected[i]));
  }
  if (actual.length !== expected.length) differing += Math.abs(actual.length - expected.length);
  return { maxAbsError, tolerance: 'identical', pass: differing === 0, detail: `${differing} of ${expected.length} outputs differ` };
}

/**
 * A fused kernel against the kernels it replaces: identical bits in f32 math; in f16 math every
 * difference at most 2⁻⁸ of the largest output (a few f16 steps at the output's scale). On an
 * NVIDIA card (Vulkan, 2026-12-07) every f16 fusion — silu·up read as the input, queries rotated
 * as read, RMSNorm in a prologue — differed from the separate kernels in a third to half of its
 * outputs (up to 0.03 apart at a scale of ~20, from inputs one f16 step apart) while
 * every f32 one was identical: that compiler does not round an in-register f32 → f16 → f32
 * conversion as a store to an f16 buffer and a load do. A difference is not an error on either
 * side (both paths are checked against the reference elsewhere), so the bound is set by the
 * output's scale, not by each element's own magnitude. SwiftShader has no shader-f16, so CI
 * checks the f32 identity.
 */
export function compareFused(actual: ArrayLike<number>, expected: ArrayLike<number>, precision: 'f32' | 'f16'): CheckResult {
  const exact = compareExact(actual, expected);
  if (precision === 'f32' || exact.pass) return exact;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  const atol = Math.max(scale * 2 ** -8, 1e-3);
  const close = compare(actual, expected, { atol, rtol: 0 });
  return { ...close, tolerance: `|e| ≤ 2⁻⁸·max|ref| = ${atol.toPrecision(3)}`, detail: `${exact.detail} in f16${close.detail ? `; ${close.detail}` : ''}` };
}
