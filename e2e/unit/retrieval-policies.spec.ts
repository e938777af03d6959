import { expect, test } from '@playwright/test';
import { AttentionKeys } from '../../src/memory/attention-keys';
import type { FrameBlock } from '../../src/memory/frame-block';
import { payloadLayout } from '../../src/memory/payload';
import { payloadLayerKeys } from '../../src/memory/payload-keys';
import { maxSimScores } from '../../src/memory/retrieval/max-sim-policy';
import { RETRIEVAL_POLICIES, retrievalPolicy } from '../../src/memory/retrieval/registry';
import { MemoryStore } from '../../src/memory/store';
import { Random } from '../../src/reference/random';

// Retrieval policies through the store (host code, run in Node): frames stored as raw blocks, the
// policy's index built as they arrive, a question ranked. A needle frame (one token that matches
// one question token strongly) beside a crowd frame (every token matching every question token
// moderately): the max-sim policy (best token per question token) finds the needle, where the
// attention mass (a sum over the frame's tokens) prefers the crowd.

const geometry = { layers: 2, heads: 4, kvHeads: 2, headDim: 32, layer: 1 };
const ch = geometry.kvHeads * geometry.headDim;
const frameTokens = 17;
const frames = 40;
const needle = 23;
const crowd = 7;
const qTokens = 3;
const meta = { modelKey: 'test', layers: geometry.layers, kvHeads: geometry.kvHeads, headDim: geometry.headDim, bits: 'none' as const, dtype: 'f32' as const };

/** The mean over a KV head's query heads of question token t's queries at the retrieval layer, scaled to unit length. */
function groupDirection(q: Float32Array, t: number, g: number): Float32Array {
  const { heads, kvHeads, headDim, layer } = geometry;
  const group = heads / kvHeads;
  const v = new Float32Array(headDim);
  for (let h = g * group; h < (g + 1) * group; h++) for (let d = 0; d < headDim; d++) v[d] += q[((layer * qTokens + t) * heads + h) * headDim + d];
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function stream(): { store: (policy: string) => MemoryStore; question: { queries: Float32Array; tokens: number } } {
  const rng = new Random(21);
  const queries = rng.normals(geometry.layers * qTokens * geometry.heads * geometry.headDim);
  const blocks: FrameBlock[] = [];
  for (let f = 0; f < frames; f++) {
    const layout = payloadLayout({ ...meta, layers: geometry.layers, tokens: frameTokens, channels: ch, keyGroup: 128 });
    const payload = new Uint8Array(layout.bytes);
    for (let l = 0; l < geometry.layers; l++) {
      const keys = rng.normals(frameTokens * ch, 0.3);
      if (l === geometry.layer) {
        for (let g = 0; g < geometry.kvHeads; g++) {
          if (f === needle) keys.set(groupDirection(queries, 0, g).map((x) => 15 * x), g * geometry.headDim); // token 0 ↔ question token 0
          if (f === crowd) {
            const mean = new Float32Array(geometry.headDim);
            for (let t = 0; t < qTokens; t++) groupDirection(queries, t, g).forEach((x, d) => (mean[d] += x / qTokens));
            for (let t = 0; t < frameTokens; t++) keys.set(mean.map((x, d) => 13 * x + keys[t * ch + g * geometry.headDim + d]), t * ch + g * geometry.headDim);
          }
        }
      }
      payload.set(new Uint8Array(keys.buffer), layout.layers[l].keys.offset);
    }
    blocks.push({ index: f, timestampMs: f * 1000, tokens: frameTokens, layers: geometry.layers, channels: ch, bits: 'none', keyGroup: 128, dtype: 'f32', payload, keySummary: rng.normals(geometry.layers * ch), thumbnail: { width: 1, height: 1, data: new Uint8Array(3) } });
  }
  return {
    question: { queries, tokens: qTokens },
    store: (policy: string) => {
      const store = new MemoryStore(meta, { index: retrievalPolicy(policy).createIndex(geometry) });
      for (const b of blocks) store.add(b);
      return store;
    },
  };
}

test('the max-sim policy ranks the needle frame first where the attention mass prefers the crowd', async () => {
  const { store, question } = stream();
  const ranked = async (policy: string) => {
    const s = store(policy);
    const r = await (await s.retrievalIndex()).rank(question, 3, s);
    const order = [...r.scores.entries()].sort((a, b) => b[1] - a[1]).map(([f]) => f);
    return { chosen: r.chosen, order, scored: r.scores.size };
  };
  const maxSim = await ranked('max-sim');
  expect(maxSim.order[0]).toBe(needle);
  expect(maxSim.chosen).toContain(needle);
  expect(maxSim.scored).toBe(frames); // a small store is ranked exactly
  const attention = await ranked('attention');
  expect(attention.order[0]).toBe(crowd);
  expect(attention.order.indexOf(needle)).toBeGreaterThan(0);
});

test('max-sim scores are the mean over question tokens and heads of the best q·k/√d of a frame, within int8 rounding', async () => {
  const { store, question } = stream();
  const s = store('max-sim');
  await s.retrievalIndex();
  const { heads, kvHeads, headDim, layer } = geometry;
  const width = heads * headDim;
  const q = question.queries.subarray(layer * qTokens * width, (layer + 1) * qTokens * width);
  for (const f of [needle, crowd, 0]) {
    const block = await s.load(f);
    const keys = new Float32Array(block.payload.buffer.slice(payloadLayout(block).layers[layer].keys.offset)).subarray(0, frameTokens * ch);
    let want = 0;
    for (let t = 0; t < qTokens; t++)
      for (let h = 0; h < heads; h++) {
        const g = Math.floor(h / (heads / kvHeads));
        let best = -Infinity;
        for (let k = 0; k < frameTokens; k++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[(t * heads + h) * headDim + d] * keys[k * ch + g * headDim + d];
          best = Math.max(best, dot / Math.sqrt(headDim));
        }
        want += best;
      }
    want /= qTokens * heads;
    // the policy's scorer over the int8 keys its index keeps of the same payload
    const kept = new AttentionKeys({ heads, kvHeads, headDim });
    kept.set(0, payloadLayerKeys(block, block.payload, layer), frameTokens);
    expect((await maxSimScores(kept, q, qTokens, [0]))[0]).toBeCloseTo(want, 1);
  }
});

test('every registered policy ranks through the store, a reopened (lazy) store alike', async () => {
  const { store, question } = stream();
  for (const name of Object.keys(RETRIEVAL_POLICIES)) {
    const live = store(name);
    const want = (await (await live.retrievalIndex()).rank(question, 4, live)).chosen;
    // the same blocks added lazily, payloads on "disk": indexed when a question needs them
    const lazy = new MemoryStore(meta, { index: retrievalPolicy(name).createIndex(geometry) });
    for (const b of live.lazyBlocks()) lazy.add(b);
    expect((await (await lazy.retrievalIndex()).rank(question, 4, lazy)).chosen, name).toEqual(want);
  }
  expect(() => retrievalPolicy('nope')).toThrow(/unknown retrieval policy "nope"; known: attention, key-summary, max-sim/);
});
