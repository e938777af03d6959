// The page Playwright drives for the text decoder's parity tests: it loads a fixture model
// (tools/fixtures/<name>/) from the Vite server, runs prefill + greedy generation in this
// Chromium's WebGPU and returns the numbers the spec compares with expected.json.
import { GpuDevice } from '../../../src/gpu/device';
import { CommandRecorder } from '../../../src/gpu/recorder';
import { Tensor } from '../../../src/gpu/tensor';
import { StreamVlmError } from '../../../src/errors';
import { Checkpoint } from '../../../src/model/checkpoint';
import { parseConfig, type SmolVlmConfig } from '../../../src/model/config';
import { eosTokenIds, generateGreedy, positionTensor } from '../../../src/model/generate';
import { StepPlan } from '../../../src/gpu/step-plan';
import type { RecordedOp } from '../../../src/gpu/recorder';
import { argmax } from '../../../src/kernels/sampling';
import { attentionSplitKey } from '../../../src/kernels/attention';
import { mergeImageFeatures } from '../../../src/model/merge-image-features';
import { UrlSource } from '../../../src/model/source';
import { TextModel } from '../../../src/model/text-model';
import type { WeightFormat } from '../../../src/kernels/weights';
import { decodeKeysPerTile } from '../../../src/kernels/attention';
import { MATVEC_ATTENTION_MAX_SPLITS } from '../../../src/kernels/matmul';

export interface CaseResult {
  tokens: number;
  lastLogitsMaxAbs: number;
  /** argmax of the expected and of our last logits. */
  expectedTop: number;
  top: number;
  /** Sum of the logits of every prompt row, and the first 8 of row 0 (expected.json's logits_summary). */
  allLogitsSum: number;
  firstLogits: number[];
  /** Last row of the all-rows logits vs the last-row-only path. */
  allVsLastMaxAbs: number;
  generated: number[];
  eos: number[];
  /**
   * The same generation told to stop at its third token (decode steps are queued ahead of the id
   * readbacks, so later steps already ran): the tokens, the cache rows left, and 9 more tokens
   * decoded from that cache after feeding the third token back.
   */
  earlyStop: { tokens: number[]; cacheRows: number; continued: number[] };
  /** Dispatches one more decode step records on the generated cache (keys split), and the layers. */
  decodeDispatches: number;
  /** The same step over a cache long enough for more than MATVEC_ATTENTION_MAX_SPLITS key splits. */
  longDecodeDispatches: number;
  layers: number;
  ms: number;
}

export interface StepPlanResult {
  /** Greedy tokens recorded by the code every step, and with a step plan (and its counts). */
  byCode: number[];
  fromPlan: number[];
  planReplayed: number;
  planRecorded: number;
  /** Step by step on one cache: steps the plan recorded, compared with what the code records at the same length. */
  compared: number;
  /** Key splits the walk went through (each traced anew). */
  splitKeys: number;
  mismatches: string[];
  /** A sampled answer (a new draw every step, from a buffer): by the code every step and with a plan. */
  sampled: { byCode: number[]; withPlan: number[]; planReplayed: number };
}

export interface LoadErrorResult {
  name: string;
  code: string;
  message: string;
}

declare global {
  interface Window {
    textHarness: {
      runCase: (model: string, caseName: string, format: WeightFormat) => Promise<CaseResult>;
      loadError: (model: string, change: 'extra-layer' | 'untie') => Promise<LoadErrorResult | null>;
      cacheOverflow: (model: string) => Promise<{ error: LoadErrorResult | null; lengthAfter: number }>;
      stepPlan: (model: string, caseName: string, steps: number) => Promise<StepPlanResult>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();

interface Fixture {
  config: SmolVlmConfig;
  checkpoint: Checkpoint;
  expected: {
    cases: Record<string, { input_ids: number[]; connector: { file: string; shape: number[] }; last_logits: { file: string }; generated: number[] }>;
  };
  generationConfig: string | null;
}

const fixtures = new Map<string, Promise<Fixture>>();

async function text(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

async function f32(url: string): Promise<Float32Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Float32Array(await r.arrayBuffer());
}

function fixture(name: string): Promise<Fixture> {
  let f = fixtures.get(name);
  if (!f) {
    const base = `/tools/fixtures/${name}/`;
    f = (async () => ({
      config: parseConfig(await text(`${base}config.json`)),
      checkpoint: await Checkpoint.open(new UrlSource(base)),
      expected: JSON.parse(await text(`${base}expected.json`)),
      generationConfig: await text(`${base}generation_config.json`),
    }))();
    fixtures.set(name, f);
  }
  return f;
}

/**
 * A case's prompt as the decoder takes it: its ids, the fixture's connector output as the image
 * features, and `merge`, which records them merged into `embeddings` [T, hidden].
 */
async function promptInputs(model: TextModel, fx: Fixture, modelName: string, caseName: string) {
  const c = fx.expected.cases[caseName];
  const hidden = fx.config.text.hiddenSize;
  const T = c.input_ids.length;
  const idTensor = Tensor.from(model.gpu, c.input_ids, [T], 'u32', 'input ids');
  const connector = await f32(`/tools/fixtures/${modelName}/${c.connector.file}`);
  const features = Tensor.from(model.gpu, connector, [connector.length / hidden, hidden], 'f32', 'image features');
  const embeddings = model.createEmbeddings(T);
  const merge = (rec: CommandRecorder) => mergeImageFeatures(rec, model, c.input_ids, idTensor, features, fx.config.imageTokenId, embeddings);
  return { T, idTensor, features, embeddings, merge };
}

/** Where two traces of a step differ (empty: the same commands, uniform words and copy ranges). */
function traceDifferences(a: RecordedOp[], b: RecordedOp[]): string[] {
  if (a.length !== b.length) return [`${a.length} commands against ${b.length}`];
  const out: string[] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (x.kind === 'dispatch' && y.kind === 'dispatch') {
      if (x.pipeline !== y.pipeline) out.push(`${i}: pipeline ${x.pipeline.label} against ${y.pipeline.label}`);
      if (x.storageKey !== y.storageKey) out.push(`${i} ${y.pipeline.label}: bindings ${x.storageKey} against ${y.storageKey}`);
      if (x.workgroups.join() !== y.workgroups.join()) out.push(`${i} ${y.pipeline.label}: workgroups ${x.workgroups} against ${y.workgroups}`);
      if (String(x.uniforms) !== String(y.uniforms)) out.push(`${i} ${y.pipeline.label}: uniforms ${x.uniforms} against ${y.uniforms}`);
    } else if (x.kind === 'copy' && y.kind === 'copy') {
      if (x.src !== y.src || x.dst !== y.dst || x.srcOffset !== y.srcOffset || x.dstOffset !== y.dstOffset || x.size !== y.size) out.push(`${i}: copy ${x.srcOffset}→${x.dstOffset} (${x.size}) against ${y.srcOffset}→${y.dstOffset} (${y.size})`);
    } else {
      out.push(`${i}: ${x.kind} against ${y.kind}`);
    }
  });
  return out;
}

function argmaxOf(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

window.textHarness = {
  async runCase(modelName, caseName, format) {
    const gpu = await gpuPromise;
    const fx = await fixture(modelName);
    const c = fx.expected.cases[caseName];
    const base = `/tools/fixtures/${modelName}/`;
    const t0 = performance.now();
    const model = TextModel.load(gpu, fx.checkpoint, fx.config, { weightFormat: format });
    const { T, idTensor, features, embeddings, merge } = await promptInputs(model, fx, modelName, caseName);
    const expectedLast = await f32(base + c.last_logits.file);
    const eos = eosTokenIds(fx.generationConfig);

    // 1. all-row logits (whole-prompt summary), in a cache of its own
    const rec = new CommandRecorder(gpu);
    merge(rec);
    const scoreCache = model.createCache(T);
    const positions = positionTensor(model, 0, T);
    const allLogits = model.forward(rec, scoreCache, embeddings, positions, 'all');
    rec.submit();
    const all = await allLogits.readFloat();
    const vocab = fx.config.text.vocabSize;
    let allLogitsSum = 0;
    for (const v of all) allLogitsSum += v;
    scoreCache.destroy();

    // 2. prefill (last-row logits) + greedy generation in a fresh cache
    const cache = model.createCache(T + 16);
    let lastLogits: Float32Array | null = null;
    const generated = await generateGreedy(model, cache, embeddings, {
      maxNewTokens: 12,
      eosTokenIds: eos,
      onToken: () => undefined,
    });
    // 3. stop at the third token, then go on from the cache that is left
    let earlyStop: CaseResult['earlyStop'] = { tokens: [], cacheRows: -1, continued: [] };
    if (generated.length >= 3) {
      const early = model.createCache(T + 16);
      const stopTokens = await generateGreedy(model, early, embeddings, { maxNewTokens: 12, eosTokenIds: [generated[2]] });
      const cacheRows = early.length;
      const third = Tensor.from(gpu, [generated[2]], [1], 'u32', 'third token');
      const thirdEmbedding = model.createEmbeddings(1);
      const r3 = new CommandRecorder(gpu);
      model.embed(r3, third, thirdEmbedding);
      r3.submit();
      const continued = await generateGreedy(model, early, thirdEmbedding, { maxNewTokens: 9, eosTokenIds: [] });
      earlyStop = { tokens: stopTokens, cacheRows, continued };
      for (const t of [third, thirdEmbedding]) t.destroy();
      early.destroy();
    }
    // one decode step on `on`, run, and the dispatches it recorded
    const countDecodeStep = async (on: typeof cache): Promise<number> => {
      const stepEmbedding = model.createEmbeddings(1);
      const stepPosition = positionTensor(model, on.length, 1);
      const rec = new CommandRecorder(gpu);
      model.forward(rec, on, stepEmbedding, stepPosition, 'last');
      const dispatches = rec.dispatches;
      rec.submit();
      await gpu.workDone();
      for (const t of [stepEmbedding, stepPosition]) t.destroy();
      return dispatches;
    };
    // 4. one more decode step on the generated cache (long enough that attention splits its keys),
    // counted: the o projection merges the split partials itself (X_ATTN), no combine dispatch
    const decodeDispatches = await countDecodeStep(cache);
    // 5. the same step over a long cache (rows left as allocated: only the recording is counted):
    // more splits than the fusion takes, so combine runs as its own dispatch again
    const longRows = (MATVEC_ATTENTION_MAX_SPLITS + 8) * decodeKeysPerTile(fx.config.text.headDim);
    const long = model.createCache(longRows + 1);
    long.advance(longRows);
    const longDecodeDispatches = await countDecodeStep(long);
    long.destroy();
    // the prefill's last-row logits: recompute them with a third cache (generateGreedy overwrote the workspace)
    {
      const c2 = model.createCache(T);
      const r2 = new CommandRecorder(gpu);
      const logits = model.forward(r2, c2, embeddings, positions, 'last');
      r2.submit();
      lastLogits = await logits.readFloat();
      c2.destroy();
    }
    const ms = performance.now() - t0;
    const result: CaseResult = {
      tokens: T,
      lastLogitsMaxAbs: maxAbs(lastLogits, expectedLast),
      expectedTop: argmaxOf(expectedLast),
      top: argmaxOf(lastLogits),
      allLogitsSum,
      firstLogits: [...all.subarray(0, 8)],
      allVsLastMaxAbs: maxAbs(all.subarray((T - 1) * vocab, T * vocab), lastLogits),
      generated,
      eos,
      earlyStop,
      decodeDispatches,
      longDecodeDispatches,
      layers: fx.config.text.numLayers,
      ms,
    };
    for (const t of [idTensor, features, embeddings, positions]) t.destroy();
    cache.destroy();
    model.destroy();
    return result;
  },

  async loadError(modelName, change) {
    const gpu = await gpuPromise;
    const fx = await fixture(modelName);
    const config: SmolVlmConfig =
      change === 'extra-layer'
        ? { ...fx.config, text: { ...fx.config.text, numLayers: fx.config.text.numLayers + 1 } }
        : { ...fx.config, tieWordEmbeddings: false };
    try {
      TextModel.load(gpu, fx.checkpoint, config, { weightFormat: 'f32' }).destroy();
      return null;
    } catch (e) {
      if (!(e instanceof StreamVlmError)) throw e;
      return { name: e.name, code: e.code, message: e.message };
    }
  },

  async stepPlan(modelName, caseName, steps) {
    const gpu = await gpuPromise;
    const fx = await fixture(modelName);
    const model = TextModel.load(gpu, fx.checkpoint, fx.config, { weightFormat: 'f32' });
    const { T, idTensor, features, embeddings, merge } = await promptInputs(model, fx, modelName, caseName);
    const rec = new CommandRecorder(gpu);
    merge(rec);
    rec.submit();
    const generate = async (stepPlan: boolean | StepPlan, sampling?: { temperature: number; seed: number }) => {
      const cache = model.createCache(T + steps + 1);
      const tokens = await generateGreedy(model, cache, embeddings, { maxNewTokens: steps, eosTokenIds: [], stepPlan, sampling });
      cache.destroy();
      return tokens;
    };
    const byCode = await generate(false);
    const plan = new StepPlan();
    const fromPlan = await generate(plan);
    const sampledPlan = new StepPlan();
    const sampling = { temperature: 1, seed: 7 };
    const sampled = { byCode: await generate(false, sampling), withPlan: await generate(sampledPlan, sampling), planReplayed: sampledPlan.replayed };

    // Step by step on one cache: each step the plan records (traced) against the code's own
    // recording of the same step at the same length (traced; both submitted, writing the same row).
    const cache = model.createCache(T + steps + 1);
    const positions = positionTensor(model, 0, T);
    const tokenId = Tensor.from(gpu, [1], [1], 'u32', 'next token');
    const stepEmbedding = model.createEmbeddings(1);
    const stepPosition = Tensor.empty(gpu, [1], 'u32', 'decode position');
    const prefill = new CommandRecorder(gpu);
    argmax(prefill, model.forward(prefill, cache, embeddings, positions, 'last'), tokenId);
    prefill.submit();
    const walk = new StepPlan();
    const t = fx.config.text;
    const keys = new Set<string>();
    const mismatches: string[] = [];
    let compared = 0;
    for (let i = 0; i < steps - 1; i++) {
      const n = cache.length;
      keys.add(attentionSplitKey({ tq: 1, hq: t.numHeads, hkv: t.numKvHeads, headDim: t.headDim, keys: n + 1 }));
      stepPosition.write([n]);
      const byCodeStep = (r: CommandRecorder) => {
        model.embed(r, tokenId, stepEmbedding);
        argmax(r, model.forward(r, cache, stepEmbedding, stepPosition, 'last'), tokenId);
      };
      const before = walk.replayed;
      const planned = new CommandRecorder(gpu);
      planned.startTrace();
      model.decodeStep(planned, cache, walk, () => byCodeStep(planned));
      const plannedOps = planned.endTrace();
      planned.submit();
      if (walk.replayed === before) continue;
      cache.truncate(n);
      const code = new CommandRecorder(gpu);
      code.startTrace();
      byCodeStep(code);
      const codeOps = code.endTrace();
      code.submit();
      compared++;
      mismatches.push(...traceDifferences(plannedOps, codeOps).map((d) => `length ${n}: ${d}`));
    }
    await gpu.workDone();
    for (const x of [idTensor, features, embeddings, positions, tokenId, stepEmbedding, stepPosition]) x.destroy();
    cache.destroy();
    model.destroy();
    return { byCode, fromPlan, planReplayed: plan.replayed, planRecorded: plan.recorded, compared, splitKeys: keys.size, mismatches: mismatches.slice(0, 10), sampled };
  },

  async cacheOverflow(modelName) {
    const gpu = await gpuPromise;
    const fx = await fixture(modelName);
    const model = TextModel.load(gpu, fx.checkpoint, fx.config, { weightFormat: 'f32' });
    const cache = model.createCache(8);
    const embeddings = model.createEmbeddings(6);
    const positions = positionTensor(model, 0, 6);
    let error: LoadErrorResult | null = null;
    const rec = new CommandRecorder(gpu);
    model.forward(rec, cache, embeddings, positions);
    rec.submit();
    try {
      // 6 + 6 rows do not fit in 8: refused before anything is recorded
      model.forward(new CommandRecorder(gpu), cache, embeddings, positions);
    } catch (e) {
      if (!(e instanceof StreamVlmError)) throw e;
      error = { name: e.name, code: e.code, message: e.message };
    }
    const lengthAfter = cache.length;
    for (const t of [embeddings, positions]) t.destroy();
    cache.destroy();
    model.destroy();
    return { error, lengthAfter };
  },
};
