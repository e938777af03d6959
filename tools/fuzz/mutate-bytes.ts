import type { Rng } from './rng';

/** Values that break size arithmetic: zero, one, sign and width edges, and just past them. */
export const INTERESTING_U32 = [0, 1, 2, 3, 7, 8, 16, 31, 32, 64, 127, 128, 255, 256, 1000, 4096, 65535, 65536, 1 << 20, 1 << 24, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export const INTERESTING_F64 = [0, -0, -1, 1e-300, 1e300, Infinity, -Infinity, NaN, 2 ** 53, -(2 ** 53), 1.5];

/** One random byte-level change: flip, set, insert, delete, duplicate, truncate or extend. */
export function mutateBytes(rng: Rng, input: Uint8Array): Uint8Array {
  const b = input.slice();
  const at = b.length ? rng.int(b.length) : 0;
  switch (rng.int(8)) {
    case 0:
      if (b.length) b[at] ^= 1 << rng.int(8);
      return b;
    case 1:
      if (b.length) b[at] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
      return b;
    case 2: {
      const n = 1 + rng.int(16);
      const ins = Uint8Array.from({ length: n }, () => rng.int(256));
      return concat(b.subarray(0, at), ins, b.subarray(at));
    }
    case 3:
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(64))));
    case 4: {
      const len = Math.min(b.length - at, 1 + rng.int(256));
      return concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
    }
    case 5:
      return b.subarray(0, at);
    case 6:
      return concat(b, new Uint8Array(1 + rng.int(64)));
    default:
      if (b.length >= 4) new DataView(b.buffer).setUint32(Math.min(at, b.length - 4), rng.pick(INTERESTING_U32), rng.chance(0.5));
      return b;
  }
}

/** A few byte mutations in a row (havoc). */
export function havoc(rng: Rng, input: Uint8Array, max = 4): Uint8Array {
  let out = input;
  const n = 1 + rng.int(max);
  for (let i = 0; i < n; i++) out = mutateBytes(rng, out);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
