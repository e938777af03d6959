import { expect, test } from '@playwright/test';
import { AttentionKeys } from '../../src/memory/attention-keys';
import { payloadLayout } from '../../src/memory/payload';
import { payloadLayerKeys } from '../../src/memory/payload-keys';
import { rankByAttention, topK } from '../../src/memory/retriever';
import { dequantizeKeysRef, quantizeKeysRef } from '../../src/reference/kvquant';
import { Random } from '../../src/reference/random';

// Retrieval by attention mass (host code, run in Node): the int8 key store, the log-sum-exp score
// against a plain f64 reference, the two-pass ranking of large stores, and the keys read back from
// raw and quantized frame payloads.

const shape = { heads: 4, kvHeads: 2, headDim: 32 };
const ch = shape.kvHeads * shape.headDim;

function randomKeys(rng: Random, tokens: number): Float32Array {
  return new Float32Array(tokens * ch).map(() => rng.normal());
}

/** log Σ_t exp(q·k_t/√d) per (question token, head), averaged: in f64 over the keys as given. */
function referenceScore(q: Float32Array, qTokens: number, keys: Float32Array, tokens: number): number {
  const group = shape.heads / shape.kvHeads;
  let total = 0;
  for (let qt = 0; qt < qTokens; qt++)
    for (let h = 0; h < shape.heads; h++) {
      const g = Math.floor(h / group);
      let sum = 0;
      for (let t = 0; t < tokens; t++) {
        let dot = 0;
        for (let d = 0; d < shape.headDim; d++) dot += q[(qt * shape.heads + h) * shape.headDim + d] * keys[t * ch + g * shape.headDim + d];
        sum += Math.exp(dot / Math.sqrt(shape.headDim));
      }
      total += Math.log(sum);
    }
  return total / (qTokens * shape.heads);
}

test('the attention-mass score is the mean log-sum-exp of q·k/√d, over int8 keys within their rounding', async () => {
  const rng = new Random(11);
  const keys = new AttentionKeys(shape);
  const frames = [randomKeys(rng, 28), randomKeys(rng, 17), randomKeys(rng, 1)];
  frames.forEach((k, i) => keys.set(i, k, k.length / ch));
  // one frame per token count: 28, 17 (not a multiple of anything) and a single token
  // per token (padded to 4): int8 codes, a scale per KV head, the mask — 28, 20 and 4 tokens
  expect(keys.bytes).toBe((28 + 20 + 4) * (ch + shape.kvHeads * 4 + 4));
  const qTokens = 5;
  const q = new Float32Array(qTokens * shape.heads * shape.headDim).map(() => 0.5 * rng.normal());
  const got = await keys.score(q, qTokens, [2, 0, 1]);
  [2, 0, 1].forEach((f, n) => {
    const want = referenceScore(q, qTokens, frames[f], frames[f].length / ch);
    // int8 with a scale per (token, KV head): a relative key error ≲ 1/254 per element
    expect(Math.abs(got[n] - want)).toBeLessThan(0.05);
  });
  await expect(keys.score(q, qTokens, [3])).rejects.toThrow(/frame 3 has no keys/);
  await expect(keys.score(q.subarray(1), qTokens, [0])).rejects.toThrow(/query values/);
  expect(() => keys.set(4, new Float32Array(ch + 1), 1)).toThrow(/key values/);
});

/** A store of random frames, with `planted` frames holding a few tokens near the question's direction. */
function plantedStore(rng: Random, frames: number, planted: number[], q: Float32Array) {
  const keys = new AttentionKeys(shape);
  const qMean = new Float32Array(ch);
  const group = shape.heads / shape.kvHeads;
  for (let h = 0; h < shape.heads; h++) for (let d = 0; d < shape.headDim; d++) qMean[Math.floor(h / group) * shape.headDim + d] += q[h * shape.headDim + d] / group;
  for (let f = 0; f < frames; f++) {
    const k = randomKeys(rng, 20);
    // 3 of 20 tokens (a small object in a frame) point along the question
    if (planted.includes(f)) for (const t of [4, 9, 13]) for (let c = 0; c < ch; c++) k[t * ch + c] = qMean[c] + 0.3 * rng.normal();
    keys.set(f, k, 20);
  }
  return keys;
}

test('stores within the budget are ranked exactly; larger ones in two passes that keep the frames the question points at', async () => {
  const rng = new Random(12);
  const q = new Float32Array(shape.heads * shape.headDim).map(() => rng.normal());
  const small = plantedStore(rng, 200, [7, 150], q);
  const r = await rankByAttention(q, 1, small, 200, 8);
  const full = await small.score(q, 1, Int32Array.from({ length: 200 }, (_, i) => i));
  expect(r.chosen).toEqual(topK(full, 8));
  expect(r.chosen).toEqual(expect.arrayContaining([7, 150]));
  expect(r.scores.size).toBe(200);

  const planted = [17, 640, 1500, 2222, 2999];
  const big = plantedStore(rng, 3000, planted, q);
  const exact = topK(await big.score(q, 1, Int32Array.from({ length: 3000 }, (_, i) => i)), 8);
  expect(exact).toEqual(expect.arrayContaining(planted));
  // within the default budget (3000 frames × 20 tokens × 4 heads × 32 = 7.7 M multiply-adds): exact
  const e = await rankByAttention(q, 1, big, 3000, 8);
  expect(e.chosen).toEqual(exact);
  expect(e.scores.size).toBe(3000);
  // a budget of nothing: the first pass keeps max(8k, 256) candidates, and they are rescored
  const b = await rankByAttention(q, 1, big, 3000, 8, 1);
  expect(b.chosen).toEqual(exact);
  expect(b.chosen).toEqual([...b.chosen].sort((x, y) => x - y));
  expect(b.scores.size).toBe(256);
});

test('keys read back from a frame payload: raw rows as stored, quantized ones as the GPU dequantizes them', () => {
  const rng = new Random(13);
  const tokens = 29;
  const layers = 3;
  const perLayer = Array.from({ length: layers }, () => randomKeys(rng, tokens));
  const info = { index: 5, layers, tokens, channels: ch, keyGroup: 128, dtype: 'f32' as const };
  // raw: keys then values per layer, f32
  const raw = payloadLayout({ ...info, bits: 'none' });
  const rawPayload = new Uint8Array(raw.bytes);
  perLayer.forEach((k, l) => rawPayload.set(new Uint8Array(k.buffer), raw.layers[l].keys.offset));
  expect(Array.from(payloadLayerKeys({ ...info, bits: 'none' }, rawPayload, 1))).toEqual(Array.from(perLayer[1]));
  // 4-bit: a part is its codes, then its params (the KIVI codec's layout)
  const q4 = payloadLayout({ ...info, bits: 4 });
  const q4Payload = new Uint8Array(q4.bytes);
  const quantized = perLayer.map((k) => quantizeKeysRef(k, tokens, ch, 4, 128));
  quantized.forEach((q, l) => {
    q4Payload.set(new Uint8Array(q.codes.buffer), q4.layers[l].keys.offset);
    q4Payload.set(new Uint8Array(q.params.buffer), q4.layers[l].keys.offset + q.codes.byteLength);
  });
  expect(Array.from(payloadLayerKeys({ ...info, bits: 4 }, q4Payload, 2))).toEqual(Array.from(dequantizeKeysRef(quantized[2], tokens, ch, 4, 128)));
  expect(() => payloadLayerKeys({ ...info, bits: 4 }, q4Payload, 3)).toThrow(/no layer 3/);
  expect(() => payloadLayerKeys({ ...info, bits: 4 }, q4Payload.subarray(1), 0)).toThrow(/payload of/);
});
