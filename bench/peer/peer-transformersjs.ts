// The peer of issue 16, measured in the page: transformers.js v4 (@huggingface/transformers, WebGPU
// through onnxruntime-web) running the same SmolVLM folder from its onnx/ export
// (tools/onnx/export_smolvlm_onnx.py). Two levels, as a web developer would meet them:
// - the pipeline: AutoProcessor + AutoModelForImageTextToText.generate(), the way its SmolVLM
//   examples answer a question about images (the 8 re-encoded frames of a stream);
// - onnxruntime-web directly on the same sessions (model.sessions: the same graphs, the same
//   device, the KV cache kept on the GPU as the pipeline keeps it), where the pipeline adds work of
//   its own (tensor wrapping, merging image features on the CPU, logits processing).
// Everything is read from the local server: no remote models, onnxruntime-web's wasm from /ort/.
import { AutoModelForImageTextToText, AutoProcessor, env, RawImage, Tensor as TjsTensor } from '@huggingface/transformers';
import * as ort from 'onnxruntime-web/webgpu';
import { uniformPicks } from '../needle-uniform';
import type { PeerDevice, PeerDtype, PeerResult, ReencodeRow } from '../peer-types';
import { median, QUESTIONS, simulatedFrame } from '../stream-common';

export interface PeerOptions {
  /** URL path of the model folder (served by the driver), e.g. '/model/'. */
  modelUrl: string;
  device: PeerDevice;
  dtype: PeerDtype;
  /** Tokens in the cache under the timed prefill and decode (as streamvlm's model bench). */
  contextTokens: number;
  /** Tokens of the timed prefill (a frame's tokens on top of the context). */
  prefillTokens: number;
  decodeSteps: number;
  answerTokens: number;
  repeats: number;
  minutes: number[];
  frame: { width: number; height: number };
  log: (line: string) => void;
}

/** The parts of transformers.js's model and processor this file calls (its types leave them open). */
export interface PeerModel {
  sessions: Record<string, ort.InferenceSession>;
  config: { image_token_id: number; text_config: { hidden_size: number; num_hidden_layers: number; num_key_value_heads: number; head_dim?: number; num_attention_heads: number } };
  encode_image(inputs: Record<string, TjsTensor>): Promise<TjsTensor>;
  generate(inputs: Record<string, unknown>): Promise<unknown>;
  dispose(): Promise<unknown>;
}
interface PeerProcessor {
  (text: string, images: RawImage[]): Promise<Record<string, TjsTensor>>;
  image_processor: (images: RawImage[]) => Promise<Record<string, TjsTensor>>;
}

const now = () => performance.now();

/** Points transformers.js at this page's server only: models from it (modelId), onnxruntime-web's wasm from /ort/. */
export function configurePeerEnv(): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useBrowserCache = false;
  const wasm = env.backends.onnx.wasm;
  if (!wasm) throw new Error('transformers.js: no onnxruntime-web wasm settings (env.backends.onnx.wasm)');
  // the asyncify build is the one transformers.js v4 picks for WebGPU (it would fetch it from jsDelivr)
  wasm.wasmPaths = { mjs: '/ort/ort-wasm-simd-threaded.asyncify.mjs', wasm: '/ort/ort-wasm-simd-threaded.asyncify.wasm' };
}

/**
 * The model id for a folder URL: transformers.js fetches `${env.localModelPath}${id}/<file>`, and
 * takes an id of one or two path segments (a hub name), so the folder's parent becomes the local path.
 */
function modelId(url: string): string {
  const parts = url.split('/').filter(Boolean);
  env.localModelPath = `/${parts.slice(0, -1).map((p) => `${p}/`).join('')}`;
  return parts[parts.length - 1];
}

/** The model alone (its onnx/ sessions), as from_pretrained gives it; configurePeerEnv first. */
export async function loadPeerModel(modelUrl: string, device: PeerDevice, dtype: PeerDtype): Promise<PeerModel> {
  return (await AutoModelForImageTextToText.from_pretrained(modelId(modelUrl), { device, dtype })) as unknown as PeerModel;
}

export async function loadPeer(o: PeerOptions): Promise<{ model: PeerModel; processor: PeerProcessor; loadMs: number }> {
  configurePeerEnv();
  const t0 = now();
  const processor = AutoProcessor.from_pretrained(modelId(o.modelUrl));
  const model = await loadPeerModel(o.modelUrl, o.device, o.dtype);
  return { model, processor: (await processor) as unknown as PeerProcessor, loadMs: now() - t0 };
}

function rawFrame(i: number, o: PeerOptions): RawImage {
  const f = simulatedFrame(i, o.frame.width, o.frame.height);
  return new RawImage(f.data, f.width, f.height, 3);
}

/** The prompt of transformers.js's SmolVLM examples, one <image> per frame (the processor expands each). */
function promptText(frames: number, question: string): string {
  return `<|im_start|>User:${'<image>'.repeat(frames)}${question}<end_of_utterance>\nAssistant:`;
}

async function timed<T>(repeats: number, once: () => Promise<T>): Promise<number> {
  await once(); // warm-up: shader compilation, buffer pools
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = now();
    await once();
    ms.push(now() - t0);
  }
  return median(ms);
}

/** Greedy answer through the pipeline; the streamer's second put is the first answer token. */
async function answer(model: PeerModel, inputs: Record<string, unknown>, maxNewTokens: number, t0: number): Promise<{ firstTokenMs: number; tokens: number; decodeTokensPerSecond: number; ids: number[] }> {
  let puts = 0;
  let first = 0;
  let last = 0;
  const ids: number[] = [];
  const streamer = {
    put: (value: bigint[][]) => {
      if (++puts === 1) return; // the prompt
      last = now();
      first ||= last;
      ids.push(Number(value[0][0]));
    },
    end: () => {},
  };
  await model.generate({ ...inputs, max_new_tokens: maxNewTokens, do_sample: false, streamer });
  return { firstTokenMs: first - t0, tokens: ids.length, decodeTokensPerSecond: ids.length > 1 ? ((ids.length - 1) * 1000) / (last - first) : 0, ids };
}

/** The peer's way of answering about a stream: 8 frames sampled over it, preprocessed, encoded and prefilled with the question. */
async function reencodeRows(model: PeerModel, processor: PeerProcessor, o: PeerOptions): Promise<ReencodeRow[]> {
  const rows: ReencodeRow[] = [];
  // warm-up with the first length's shapes
  const warm = uniformPicks(Math.round(o.minutes[0] * 60), 8);
  await answer(model, await processor(promptText(warm.length, QUESTIONS[0]), warm.map((i) => rawFrame(i, o))), 2, now());
  for (const m of o.minutes) {
    const n = Math.round(m * 60);
    const picks = uniformPicks(n, 8);
    const firsts: number[] = [];
    const rates: number[] = [];
    let promptTokens = 0;
    for (const q of QUESTIONS) {
      const images = picks.map((i) => rawFrame(i, o));
      const t0 = now();
      const inputs = await processor(promptText(images.length, q), images);
      promptTokens = inputs.input_ids.dims[1];
      const a = await answer(model, inputs, o.answerTokens, t0);
      firsts.push(a.firstTokenMs);
      rates.push(a.decodeTokensPerSecond);
    }
    rows.push({ minutes: m, frames: n, sampledFrames: picks.length, promptTokens, firstTokenMs: median(firsts), decodeTokensPerSecond: median(rates) });
    o.log(`transformers.js re-encode @${m} min: ${JSON.stringify(rows[rows.length - 1])}`);
  }
  return rows;
}

function randomFloats(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

const i64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** onnxruntime-web on the model's own sessions: vision per frame, a prefill on a cached context, greedy decode steps. */
async function directOrt(model: PeerModel, processor: PeerProcessor, o: PeerOptions): Promise<PeerResult['ort']> {
  const { vision_encoder: vision, embed_tokens: embed, decoder_model_merged: decoder } = model.sessions;
  const tc = model.config.text_config;
  const headDim = tc.head_dim ?? tc.hidden_size / tc.num_attention_heads;
  const pixels = (await processor.image_processor([rawFrame(0, o)])) as Record<string, TjsTensor>;
  const pv = pixels.pixel_values;
  const pm = pixels.pixel_attention_mask;
  const visionFeeds = { pixel_values: new ort.Tensor('float32', pv.data as Float32Array, pv.dims), pixel_attention_mask: new ort.Tensor('bool', pm.data as Uint8Array, pm.dims) };
  const visionMsPerFrame = await timed(o.repeats, async () => {
    const out = await vision.run(visionFeeds);
    for (const t of Object.values(out)) t.dispose();
  });

  const withKeep = decoder.inputNames.includes('num_logits_to_keep');
  type Past = Record<string, ort.Tensor>;
  // the cache's element type as the graph declares it (f16 in the *_fp16 decoder), as transformers.js types its empty cache
  const cacheMeta = decoder.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  const f16Cache = !!cacheMeta && cacheMeta.isTensor && cacheMeta.type === 'float16';
  const emptyPast = (): Past => {
    const p: Past = {};
    const dims = [1, tc.num_key_value_heads, 0, headDim];
    for (let l = 0; l < tc.num_hidden_layers; l++) for (const kv of ['key', 'value']) p[`past_key_values.${l}.${kv}`] = f16Cache ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    return p;
  };
  const step = async (embeds: ort.Tensor, past: Past, pastLen: number) => {
    const n = embeds.dims[1];
    const feeds: Record<string, ort.Tensor> = { inputs_embeds: embeds, attention_mask: i64(new Array<number>(pastLen + n).fill(1), [1, pastLen + n]), position_ids: i64(Array.from({ length: n }, (_, i) => pastLen + i), [1, n]), ...past };
    if (withKeep) feeds.num_logits_to_keep = i64([1], []);
    const out = await decoder.run(feeds);
    const present: Past = {};
    for (const [name, t] of Object.entries(out)) if (name.startsWith('present')) present[name.replace('present', 'past_key_values')] = t;
    const logits = out.logits;
    // the CPU copy of the last position's logits: what the pipeline's sampler reads
    const data = (await logits.getData()) as Float32Array;
    const vocab = logits.dims[logits.dims.length - 1];
    const last = data.subarray(data.length - vocab);
    let best = 0;
    for (let i = 1; i < vocab; i++) if (last[i] > last[best]) best = i;
    logits.dispose();
    return { present, next: best };
  };
  const disposePast = (p: Past) => Object.values(p).forEach((t) => t.location === 'gpu-buffer' && t.dispose());
  const embeds = (n: number, seed: number) => new ort.Tensor('float32', randomFloats(n * tc.hidden_size, seed, 0.05), [1, n, tc.hidden_size]);

  // the context, prefilled once; its K/V stay on the GPU (present.* outputs are GPU buffers on WebGPU)
  const context = await step(embeds(o.contextTokens, 1), emptyPast(), 0);
  const prefillMs = await timed(o.repeats, async () => {
    const r = await step(embeds(o.prefillTokens, 2), context.present, o.contextTokens);
    disposePast(r.present);
  });

  // greedy decode on the context: embed_tokens, decoder, argmax on the CPU, as the pipeline does
  const decodeOnce = async () => {
    let past = context.present;
    let pastLen = o.contextTokens;
    let token = context.next;
    const t0 = now();
    for (let i = 0; i < o.decodeSteps; i++) {
      const e = (await embed.run({ input_ids: i64([token], [1, 1]) })).inputs_embeds;
      const r = await step(e, past, pastLen);
      e.dispose();
      if (past !== context.present) disposePast(past);
      past = r.present;
      pastLen += 1;
      token = r.next;
    }
    disposePast(past);
    return now() - t0;
  };
  await decodeOnce();
  const decodeMs: number[] = [];
  for (let i = 0; i < o.repeats; i++) decodeMs.push(await decodeOnce());
  disposePast(context.present);
  return { visionMsPerFrame, prefillMs, prefillTokens: o.prefillTokens, cachedTokens: o.contextTokens, decodeTokensPerSecond: (o.decodeSteps * 1000) / median(decodeMs), decodeSteps: o.decodeSteps };
}

export async function measurePeer(o: PeerOptions, loaded: { model: PeerModel; processor: PeerProcessor; loadMs: number }): Promise<PeerResult> {
  const { model, processor } = loaded;
  const frame = rawFrame(0, o);
  const preprocessMsPerFrame = await timed(o.repeats, () => processor.image_processor([frame]));
  const pixels = await processor.image_processor([frame]);
  const visionMsPerFrame = await timed(o.repeats, () => model.encode_image({ pixel_values: pixels.pixel_values, pixel_attention_mask: pixels.pixel_attention_mask }));
  o.log(`transformers.js pipeline: preprocess ${preprocessMsPerFrame.toFixed(1)} ms, vision ${visionMsPerFrame.toFixed(1)} ms per frame`);
  const reencode = await reencodeRows(model, processor, o);
  const direct = await directOrt(model, processor, o);
  o.log(`onnxruntime-web direct: ${JSON.stringify(direct)}`);
  return { runtime: 'transformers.js', version: env.version, onnxruntimeWeb: ort.env.versions.web ?? '?', device: o.device, dtype: o.dtype, loadMs: loaded.loadMs, pipeline: { preprocessMsPerFrame, visionMsPerFrame, reencode }, ort: direct };
}

/**
 * A fixture case of tools/fixtures/*\/expected.json (input ids and pixel values transformers used)
 * answered greedily through the pipeline: the tokens must be transformers' `generated`.
 */
export async function peerFixtureTokens(model: PeerModel, modelUrl: string, caseName: string): Promise<{ expected: number[]; peer: number[] }> {
  const expected = (await (await fetch(`${modelUrl}expected.json`)).json()) as { cases: Record<string, { input_ids: number[]; pixel_values: { file: string; shape: number[] }; generated: number[] }> };
  const c = expected.cases[caseName];
  if (!c) throw new Error(`expected.json has no case ${caseName}`);
  const pixels = new Float32Array(await (await fetch(`${modelUrl}${c.pixel_values.file}`)).arrayBuffer());
  const [n, ch, h, w] = c.pixel_values.shape;
  const inputs = {
    input_ids: new TjsTensor('int64', BigInt64Array.from(c.input_ids.map(BigInt)), [1, c.input_ids.length]),
    attention_mask: new TjsTensor('int64', new BigInt64Array(c.input_ids.length).fill(1n), [1, c.input_ids.length]),
    pixel_values: new TjsTensor('float32', pixels, [1, n, ch, h, w]),
    pixel_attention_mask: new TjsTensor('bool', new Uint8Array(n * h * w).fill(1), [1, n, h, w]),
  };
  const a = await answer(model, inputs, c.generated.length, now());
  return { expected: c.generated, peer: a.ids };
}
