// Scoring variants for frame retrieval, in plain TypeScript over per-token pre-RoPE keys, for the
// offline comparison in needle-retrieval-probe.ts. The engine's scoring (memory/retriever.ts) is
// the variant 'cos-mean/all': cosine of the mean bare-question query and the mean key, averaged
// over every (layer, KV head).

export interface ProbeShape {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Image tokens at the end of a frame piece, before its closing <fake_token_around_image>. */
  imageTokens: number;
}

/** A stored frame: per layer its keys, [tokens, kvHeads·headDim], pre-RoPE. */
export interface FrameKeys {
  index: number;
  tokens: number;
  keys: Float32Array[];
}

/** Question queries, [layers, tokens, heads·headDim], pre-RoPE: the bare question and its whole piece. */
export interface QuestionQueries {
  bare: { queries: Float32Array; tokens: number };
  piece: { queries: Float32Array; tokens: number };
}

type TokenRange = 'all' | 'img';
type QueryForm = 'bare' | 'piece' | 'last';
interface Variant {
  name: string;
  kind: 'cos-mean' | 'cos-max' | 'lse' | 'lse-mq' | 'centered' | 'dot-mean';
  tokens: TokenRange;
  query: QueryForm;
}

const BASE_VARIANTS: Variant[] = [
  { name: 'cos-mean', kind: 'cos-mean', tokens: 'all', query: 'bare' },
  { name: 'cos-mean-img', kind: 'cos-mean', tokens: 'img', query: 'bare' },
  { name: 'cos-mean-piece', kind: 'cos-mean', tokens: 'all', query: 'piece' },
  { name: 'cos-mean-img-piece', kind: 'cos-mean', tokens: 'img', query: 'piece' },
  { name: 'cos-mean-img-last', kind: 'cos-mean', tokens: 'img', query: 'last' },
  { name: 'cos-max-img', kind: 'cos-max', tokens: 'img', query: 'bare' },
  { name: 'centered-img', kind: 'centered', tokens: 'img', query: 'bare' },
  { name: 'centered-all', kind: 'centered', tokens: 'all', query: 'bare' },
  { name: 'centered-img-piece', kind: 'centered', tokens: 'img', query: 'piece' },
  { name: 'dot-mean', kind: 'dot-mean', tokens: 'all', query: 'bare' },
  { name: 'lse-img', kind: 'lse', tokens: 'img', query: 'bare' },
  { name: 'lse-all', kind: 'lse', tokens: 'all', query: 'bare' },
  { name: 'lse-img-piece', kind: 'lse', tokens: 'img', query: 'piece' },
  { name: 'lse-all-last', kind: 'lse', tokens: 'all', query: 'last' },
  { name: 'lse-mq-all', kind: 'lse-mq', tokens: 'all', query: 'bare' },
];

/** 'all' and each single layer; the needle model has 4 layers, a 256M model 30 (then: all only). */
function layerSets(layers: number): { tag: string; layers: number[] }[] {
  const all = { tag: 'all', layers: Array.from({ length: layers }, (_, l) => l) };
  if (layers > 8) return [all];
  return [all, ...all.layers.map((l) => ({ tag: `L${l}`, layers: [l] })), { tag: 'L1+', layers: all.layers.slice(1) }];
}

export function variantNames(layers: number): string[] {
  return BASE_VARIANTS.flatMap((v) => layerSets(layers).map((s) => `${v.name}/${s.tag}`));
}

function rangeOf(f: FrameKeys, r: TokenRange, s: ProbeShape): [number, number] {
  return r === 'all' ? [0, f.tokens] : [f.tokens - 1 - s.imageTokens, f.tokens - 1];
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}

/** Per (layer, KV head): the query mean over tokens and the heads of its group, [layers][kvHeads] of headDim. */
function groupedQuery(q: { queries: Float32Array; tokens: number }, s: ProbeShape, form: QueryForm): Float32Array[][] {
  const group = s.heads / s.kvHeads;
  const from = form === 'last' ? q.tokens - 1 : 0;
  return Array.from({ length: s.layers }, (_, l) =>
    Array.from({ length: s.kvHeads }, (_, g) => {
      const v = new Float32Array(s.headDim);
      for (let t = from; t < q.tokens; t++)
        for (let h = g * group; h < (g + 1) * group; h++) {
          const o = ((l * q.tokens + t) * s.heads + h) * s.headDim;
          for (let d = 0; d < s.headDim; d++) v[d] += q.queries[o + d];
        }
      return v;
    }),
  );
}

function keyMean(f: FrameKeys, l: number, g: number, r: TokenRange, s: ProbeShape): Float32Array {
  const [a, b] = rangeOf(f, r, s);
  const ch = s.kvHeads * s.headDim;
  const v = new Float32Array(s.headDim);
  for (let t = a; t < b; t++) for (let d = 0; d < s.headDim; d++) v[d] += f.keys[l][t * ch + g * s.headDim + d];
  return v.map((x) => x / (b - a));
}

const dot = (a: Float32Array, b: Float32Array, bo = 0) => {
  let x = 0;
  for (let d = 0; d < a.length; d++) x += a[d] * b[bo + d];
  return x;
};

/** Each variant's score of every frame (higher = more relevant), keyed by variant name. */
export function scoreVariants(frames: FrameKeys[], q: QuestionQueries, s: ProbeShape): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const sets = layerSets(s.layers);
  const ch = s.kvHeads * s.headDim;
  const group = s.heads / s.kvHeads;
  for (const v of BASE_VARIANTS) {
    const qs = v.query === 'bare' ? q.bare : q.piece;
    const gq = groupedQuery(qs, s, v.query);
    // per frame, per layer, the sum over KV heads of that layer's score
    const perLayer = frames.map(() => new Float64Array(s.layers));
    if (v.kind === 'lse') {
      const scale = 1 / Math.sqrt(s.headDim);
      const from = v.query === 'last' ? qs.tokens - 1 : 0;
      frames.forEach((f, fi) => {
        const [a, b] = rangeOf(f, v.tokens, s);
        for (let l = 0; l < s.layers; l++)
          for (let t = from; t < qs.tokens; t++)
            for (let h = 0; h < s.heads; h++) {
              const qo = ((l * qs.tokens + t) * s.heads + h) * s.headDim;
              const qv = qs.queries.subarray(qo, qo + s.headDim);
              const g = Math.floor(h / group);
              let m = -Infinity;
              const logits: number[] = [];
              for (let k = a; k < b; k++) {
                const x = dot(qv, f.keys[l], k * ch + g * s.headDim) * scale;
                logits.push(x);
                if (x > m) m = x;
              }
              let sum = 0;
              for (const x of logits) sum += Math.exp(x - m);
              perLayer[fi][l] += m + Math.log(sum);
            }
      });
    } else {
      const uq = gq.map((row) => row.map(unit));
      let centre: Float32Array[][] | null = null;
      if (v.kind === 'centered') {
        centre = Array.from({ length: s.layers }, (_, l) => Array.from({ length: s.kvHeads }, () => new Float32Array(s.headDim)));
        for (const f of frames) for (let l = 0; l < s.layers; l++) for (let g = 0; g < s.kvHeads; g++) keyMean(f, l, g, v.tokens, s).forEach((x, d) => (centre![l][g][d] += x / frames.length));
      }
      frames.forEach((f, fi) => {
        for (let l = 0; l < s.layers; l++)
          for (let g = 0; g < s.kvHeads; g++) {
            if (v.kind === 'lse-mq') {
              const [a, b] = rangeOf(f, v.tokens, s);
              const qm = gq[l][g].map((x) => x / (qs.tokens * group));
              let m = -Infinity;
              const logits: number[] = [];
              for (let k = a; k < b; k++) {
                const x = dot(qm, f.keys[l], k * ch + g * s.headDim) / Math.sqrt(s.headDim);
                logits.push(x);
                if (x > m) m = x;
              }
              perLayer[fi][l] += m + Math.log(logits.reduce((acc, x) => acc + Math.exp(x - m), 0));
              continue;
            }
            if (v.kind === 'cos-max') {
              const [a, b] = rangeOf(f, v.tokens, s);
              let best = -Infinity;
              for (let k = a; k < b; k++) {
                const kv = unit(f.keys[l].slice(k * ch + g * s.headDim, k * ch + (g + 1) * s.headDim));
                best = Math.max(best, dot(uq[l][g], kv));
              }
              perLayer[fi][l] += best;
              continue;
            }
            let km = keyMean(f, l, g, v.tokens, s);
            if (centre) km = km.map((x, d) => x - centre![l][g][d]);
            perLayer[fi][l] += v.kind === 'dot-mean' ? dot(gq[l][g], km) : dot(uq[l][g], unit(km));
          }
      });
    }
    for (const set of sets) out.set(`${v.name}/${set.tag}`, Float32Array.from(perLayer, (p) => set.layers.reduce((a, l) => a + p[l], 0)));
  }
  return out;
}
