import { roundToF16 } from '../gpu/f16';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { applyRope, RopeTable } from '../kernels/rope';
import { Random } from '../reference/random';
import { applyRopeRef } from '../reference/rope';
import { compare, TOLERANCE } from './compare';
import type { KernelCheck } from './types';

// SmolVLM2's language model: rope_theta 100000, head_dim 64.
const THETA = 100000;
const MAX_POSITION = 20000;

interface RopeCase {
  tokens: number;
  heads: number;
  headDim: number;
  inPlace: boolean;
}

// 37·9·32 pairs is not a multiple of the 256-thread workgroup; 64·4·32 is. Positions are random up to
// 20000, so a wrong table row or angle convention shows: an f32 angle there has an ulp of ~2e-3 rad.
const CASES: RopeCase[] = [
  { tokens: 37, heads: 9, headDim: 64, inPlace: false },
  { tokens: 37, heads: 9, headDim: 64, inPlace: true },
  { tokens: 64, heads: 4, headDim: 64, inPlace: false },
  { tokens: 5, heads: 3, headDim: 128, inPlace: false },
];

function check(c: RopeCase): KernelCheck {
  return {
    name: `rope [${c.tokens}, ${c.heads}, ${c.headDim}]${c.inPlace ? ' in place' : ''}`,
    family: 'rope',
    async run(gpu, precision) {
      const rng = new Random(1000 + c.tokens * 7 + c.headDim + (c.inPlace ? 1 : 0));
      const raw = rng.normals(c.tokens * c.heads * c.headDim);
      const x = precision === 'f16' ? roundToF16(raw) : raw;
      const positions = new Uint32Array(c.tokens).map(() => rng.int(0, MAX_POSITION));
      const table = RopeTable.create(gpu, { headDim: c.headDim, theta: THETA, maxPositions: MAX_POSITION });
      const shape = [c.tokens, c.heads, c.headDim];
      const tx = Tensor.from(gpu, x, shape, precision);
      const tp = Tensor.from(gpu, positions, [c.tokens], 'u32');
      const out = c.inPlace ? tx : Tensor.empty(gpu, shape, precision);
      const rec = new CommandRecorder(gpu);
      applyRope(rec, tx, tp, table, out);
      rec.submit();
      // f32: the kernel's table holds f32-rounded cos/sin of the same f32 angles as the reference, so
      // only ~1e-7 relative remains. f16: one f16 rounding of the output (the math is f32).
      const result = compare(await out.readFloat(), applyRopeRef(x, c.tokens, c.heads, c.headDim, positions, THETA), TOLERANCE[precision]);
      new Set([tx, tp, out]).forEach((t) => t.destroy());
      table.destroy();
      return result;
    },
  };
}

export const ropeChecks: KernelCheck[] = CASES.map(check);
