/**
 * Fills `bytes` with a deterministic pseudo-random stream (xorshift32), so a test block's content
 * follows from its seed; returns `bytes`.
 */
export function fillSeeded(bytes: Uint8Array, seed: number): Uint8Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}
