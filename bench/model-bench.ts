/**
 * End-to-end model benchmark at real SmolVLM2 sizes with random weights: what a live-video answer
 * costs per frame (preprocess + vision + connector), per frame of prompt (prefill of one frame's
 * tokens on top of a long cache), per generated token (greedy decode), in GPU memory and in
 * dispatches. Every forward goes through the real loaders and the real model classes.
 *
 * Timing: GPU time is the sum of the timestamp-query durations of the recorder's compute passes
 * (buffer copies between passes are not covered; preprocessing records into its own recorder and
 * has wall-clock only). Wall-clock is host time around submit … completion (readback or
 * onSubmittedWorkDone), what a caller waits. Each figure: warm-up until `warmMs` of work, then the
 * best of 3 runs (decode: mean per step of the best run; GPU per step: median over a timed run).
 */
import { CommandRecorder } from '../src/gpu/recorder';
import type { GpuDevice } from '../src/gpu/device';
import { Tensor } from '../src/gpu/tensor';
import { GpuTimer } from '../src/gpu/timer';
import { actDType, type Precision } from '../src/kernels/common';
import { argmax, readTokenId } from '../src/kernels/sampling';
import { weightBytes, type WeightFormat } from '../src/kernels/weights';
import type { Checkpoint } from '../src/model/checkpoint';
import type { SmolVlmConfig } from '../src/model/config';
import { Connector } from '../src/model/connector';
import { generateGreedy } from '../src/model/generate';
import { mergeImageFeatures } from '../src/model/merge-image-features';
import { preprocessVideoFrames, type RgbImage } from '../src/model/preprocess';
import type { VideoProcessorSettings } from '../src/model/processor-config';
import { TextModel } from '../src/model/text-model';
import { VisionTower } from '../src/model/vision';

export interface ModelBenchOptions {
  label: string;
  config: SmolVlmConfig;
  checkpoint: Checkpoint;
  format: WeightFormat;
  precision: Precision;
  /** Tokens already in the cache before the prefill and the decode (default 1000). */
  contextTokens: number;
  /** Greedy steps per decode run (≥ 32). */
  decodeSteps: number;
  /** Video longest-edge resize before the square squash (hub preprocessor_config: 2048). */
  videoLongestEdge: number;
  /** Text tokens before a frame's image tokens ("\nFrame from 00:01:"); an estimate, ids are random. */
  framePrefixTokens: number;
  /** Warm-up work before the measured runs, in ms of wall-clock. */
  warmMs: number;
  /** Also time one frame, one prefill and one decode step dispatch by dispatch (`kernels`). */
  perDispatch?: boolean;
  log?: (line: string) => void;
}

/** GPU time of one kernel variant (a pipeline label) within a stage: its dispatches summed. */
export interface KernelTime {
  pipeline: string;
  dispatches: number;
  gpuMs: number;
}

/** Per-pipeline sums of a per-dispatch timer's passes, largest first. */
function byPipeline(passes: readonly { label: string; ns: number }[]): KernelTime[] {
  const sums = new Map<string, KernelTime>();
  for (const { label, ns } of passes) {
    const k = sums.get(label) ?? { pipeline: label, dispatches: 0, gpuMs: 0 };
    k.dispatches++;
    k.gpuMs += ns / 1e6;
    sums.set(label, k);
  }
  return [...sums.values()].sort((a, b) => b.gpuMs - a.gpuMs);
}

export interface ModelBenchResult {
  model: string;
  format: WeightFormat;
  precision: Precision;
  timing: 'timestamp-query' | 'wall-clock';
  frame: { preprocessWallMs: number; visionConnectorGpuMs: number | null; visionConnectorWallMs: number; totalWallMs: number; framesPerSecond: number; pipelinedFramesPerSecond: number; dispatches: number };
  prefill: { tokens: number; cachedTokens: number; gpuMs: number | null; wallMs: number; dispatches: number };
  /** With `perDispatch` (and timestamp-query): where each stage's GPU time goes, by pipeline. */
  kernels?: { frame: KernelTime[]; prefill: KernelTime[]; decode: KernelTime[] };
  decode: { cachedTokens: number; steps: number; tokensPerSecond: number; wallMsPerToken: number; serialTokensPerSecond: number; gpuMsPerToken: number | null; dispatchesPerToken: number };
  memory: { weightsBytes: number; kvCacheBytes: number; workspaceBytes: number; benchIoBytes: number; peakStorageBytes: number; reachable: { kvCacheTensors: number; textHeadAndEmbedding: number } };
}


type Phase = 'weights' | 'kv-cache' | 'bench-io' | 'workspace';

/**
 * GPU memory by what allocated it: wraps the device's createBuffer (and each buffer's destroy)
 * while a benchmark runs. Counts storage buffers alive at the end, by the phase that created
 * them, and the peak of all live storage buffers; uniform arenas, readback staging and query
 * buffers are not counted (small, or not the model's).
 */
class BufferTally {
  phase: Phase = 'weights';
  private readonly live = new Map<GPUBuffer, { size: number; phase: Phase }>();
  private current = 0;
  private peak = 0;
  private constructor(private readonly device: GPUDevice, private readonly original: GPUDevice['createBuffer']) {}

  static attach(gpu: GpuDevice): BufferTally {
    const device = gpu.device;
    const tally = new BufferTally(device, device.createBuffer);
    const create = tally.original.bind(device);
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      const buffer = create(descriptor);
      if (descriptor.usage & GPUBufferUsage.STORAGE) {
        tally.live.set(buffer, { size: descriptor.size, phase: tally.phase });
        tally.current += descriptor.size;
        tally.peak = Math.max(tally.peak, tally.current);
        const destroy = buffer.destroy.bind(buffer);
        buffer.destroy = () => {
          const entry = tally.live.get(buffer);
          if (entry) {
            tally.current -= entry.size;
            tally.live.delete(buffer);
          }
          destroy();
        };
      }
      return buffer;
    };
    return tally;
  }

  summary(): Record<Phase | 'peak', number> {
    const out = { weights: 0, 'kv-cache': 0, 'bench-io': 0, workspace: 0, peak: this.peak };
    for (const { size, phase } of this.live.values()) out[phase] += size;
    return out;
  }

  detach(): void {
    this.device.createBuffer = this.original;
  }
}

const now = () => performance.now();

/** A random 640×480 RGB camera frame. */
function randomFrame(seed: number): RgbImage {
  const data = new Uint8Array(640 * 480 * 3);
  let s = seed * 2654435761 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = s & 0xff;
  }
  return { width: 640, height: 480, data, channels: 3 };
}

function videoSettings(config: SmolVlmConfig, longestEdge: number): VideoProcessorSettings {
  return { fps: 1, maxFrames: 64, longestEdge, maxImageSize: config.vision.imageSize, resample: 1, rescaleFactor: 1 / 255, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5] };
}

/**
 * Runs `once` until `warmMs` of wall-clock have passed (at least once: pipeline compilation, first
 * touch of buffers; a GPU also needs a while at load to reach its full clock), then the best of 3.
 */
async function warmThenBest<T extends { wallMs: number }>(warmMs: number, once: () => Promise<T>): Promise<T> {
  const start = now();
  for (let i = 0; i < 1 || now() - start < warmMs; i++) await once();
  let best: T | null = null;
  for (let i = 0; i < 3; i++) {
    const r = await once();
    if (!best || r.wallMs < best.wallMs) best = r;
  }
  return best!;
}

async function gpuMs(timer: GpuTimer | undefined): Promise<number | null> {
  if (!timer) return null;
  const ns = await timer.read();
  if (ns.length >= timer.capacity) throw new Error(`GpuTimer: ${ns.length} passes filled its capacity; later passes went untimed`);
  return ns.reduce((a, b) => a + b, 0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runModelBench(gpu: GpuDevice, o: ModelBenchOptions): Promise<ModelBenchResult> {
  const log = o.log ?? (() => {});
  const { config, precision } = o;
  const act = actDType(precision);
  const tally = BufferTally.attach(gpu);
  const timer = gpu.features.timestamps ? new GpuTimer(gpu.device, 256) : undefined;
  const created: { destroy(): void }[] = [];
  const own = <T extends { destroy(): void }>(x: T): T => (created.push(x), x);
  try {
    // ---- load (random weights through the real loaders)
    tally.phase = 'weights';
    let t0 = now();
    const vision = own(VisionTower.load(gpu, o.checkpoint, config, { format: o.format, precision }));
    const connector = own(Connector.load(gpu, o.checkpoint, config, { format: o.format }));
    const text = own(TextModel.load(gpu, o.checkpoint, config, { weightFormat: o.format, precision }));
    await gpu.device.queue.onSubmittedWorkDone();
    log(`loaded ${o.label} ${o.format} weights, ${precision} math, in ${((now() - t0) / 1e3).toFixed(1)} s`);

    const prefillTokens = o.framePrefixTokens + 3 + config.imageSeqLen; // prefix, <fake><global-img> … <fake>
    tally.phase = 'kv-cache';
    const capacity = o.contextTokens + Math.max(prefillTokens, o.decodeSteps) + 1;
    const cache = own(text.createCache(capacity));
    // The 1000 cached tokens: rows 0…999 at positions 0…999 (a new cache's rows sit at their own
    // index). K/V are left zero (speed does not depend on their values); the prefill / decode steps
    // append after them.

    tally.phase = 'bench-io';
    const video = videoSettings(config, o.videoLongestEdge);
    const frames = [randomFrame(1), randomFrame(2), randomFrame(3)];
    const visionOut = own(vision.createOutput(1));
    const imageEmbeddings = own(connector.createOutput(1, act));
    const vocab = config.text.vocabSize;
    const hostIds: number[] = [];
    for (let i = 0; i < o.framePrefixTokens; i++) hostIds.push((i * 7919 + 11) % vocab === config.imageTokenId ? 1 : (i * 7919 + 11) % vocab);
    hostIds.push(2, 3, ...Array(config.imageSeqLen).fill(config.imageTokenId), 2);
    const ids = own(Tensor.from(gpu, hostIds, [prefillTokens], 'u32', 'prefill ids'));
    const prefillEmbeddings = own(text.createEmbeddings(prefillTokens));
    const prefillPositions = own(Tensor.from(gpu, hostIds.map((_, i) => o.contextTokens + i), [prefillTokens], 'u32', 'prefill positions'));
    const tokenId = own(Tensor.from(gpu, [5], [1], 'u32', 'next token'));
    const stepEmbedding = own(text.createEmbeddings(1));
    const stepPosition = own(Tensor.empty(gpu, [1], 'u32', 'decode position'));
    const imageRows = new Tensor(gpu, imageEmbeddings.buffer, [config.imageSeqLen, config.text.hiddenSize], imageEmbeddings.dtype);
    tally.phase = 'workspace';

    // The three stages' GPU work, recorded the same way by every measurement below.
    const recordFrame = (rec: CommandRecorder, pixelValues: Tensor) => {
      vision.forward(rec, pixelValues, visionOut);
      connector.forward(rec, visionOut, imageEmbeddings);
    };
    const recordPrefill = (rec: CommandRecorder) => {
      mergeImageFeatures(rec, text, hostIds, ids, imageRows, config.imageTokenId, prefillEmbeddings);
      argmax(rec, text.forward(rec, cache, prefillEmbeddings, prefillPositions, 'last'), tokenId);
    };
    const recordDecodeStep = (rec: CommandRecorder) => {
      text.embed(rec, tokenId, stepEmbedding);
      argmax(rec, text.forward(rec, cache, stepEmbedding, stepPosition, 'last'), tokenId);
    };

    // ---- (a) one 640×480 frame → 512² tile → vision → connector
    let frameDispatches = 0;
    let frameIndex = 0;
    const frameOnce = async () => {
      const frame = frames[frameIndex++ % frames.length];
      const start = now();
      const pre = preprocessVideoFrames(gpu, [frame], video);
      await gpu.device.queue.onSubmittedWorkDone();
      const preMs = now() - start;
      const t1 = now();
      const rec = new CommandRecorder(gpu, timer, 'frame');
      recordFrame(rec, pre.pixelValues);
      frameDispatches = rec.dispatches;
      rec.submit();
      pre.pixelValues.destroy();
      await gpu.device.queue.onSubmittedWorkDone();
      const end = now();
      return { wallMs: end - start, preMs, modelWallMs: end - t1, gpu: await gpuMs(timer) };
    };
    const frame = await warmThenBest(o.warmMs, frameOnce);
    // Throughput with the queue kept full: frames recorded back to back, one wait at the end.
    const pipelinedFrames = 8;
    t0 = now();
    for (let i = 0; i < pipelinedFrames; i++) {
      const pre = preprocessVideoFrames(gpu, [frames[i % frames.length]], video);
      const rec = new CommandRecorder(gpu, undefined, 'frame');
      recordFrame(rec, pre.pixelValues);
      rec.submit();
      pre.pixelValues.destroy();
    }
    await gpu.device.queue.onSubmittedWorkDone();
    const pipelinedFps = pipelinedFrames / ((now() - t0) / 1e3);
    log(`frame: ${frame.wallMs.toFixed(2)} ms wall (preprocess ${frame.preMs.toFixed(2)}, vision+connector ${frame.modelWallMs.toFixed(2)} wall / ${frame.gpu?.toFixed(2) ?? '-'} GPU)`);

    // ---- (b) prefill one frame's tokens on top of the cached context
    let prefillDispatches = 0;
    const prefillOnce = async () => {
      cache.truncate(o.contextTokens);
      const start = now();
      const rec = new CommandRecorder(gpu, timer, 'prefill');
      recordPrefill(rec);
      prefillDispatches = rec.dispatches;
      rec.submit();
      await readTokenId(tokenId);
      const wallMs = now() - start;
      return { wallMs, gpu: await gpuMs(timer) };
    };
    const prefill = await warmThenBest(o.warmMs, prefillOnce);
    log(`prefill ${prefillTokens} tokens after ${o.contextTokens}: ${prefill.wallMs.toFixed(2)} ms wall / ${prefill.gpu?.toFixed(2) ?? '-'} GPU`);

    // ---- (c) greedy decode from the cached context: generate.ts itself (steps queued ahead of the
    // id readbacks), against the same steps one submit → readback at a time as the baseline
    let decodeDispatches = 0;
    const decodeSerial = async (timed: boolean) => {
      cache.truncate(o.contextTokens);
      const perStepGpu: number[] = [];
      const start = now();
      for (let step = 0; step < o.decodeSteps; step++) {
        stepPosition.write([cache.length]);
        const rec = new CommandRecorder(gpu, timed ? timer : undefined, 'decode');
        recordDecodeStep(rec);
        decodeDispatches = rec.dispatches;
        rec.submit();
        await readTokenId(tokenId);
        if (timed) perStepGpu.push((await gpuMs(timer)) ?? NaN);
      }
      return { wallMs: now() - start, perStepGpu };
    };
    const decodeGenerate = async () => {
      cache.truncate(o.contextTokens);
      const start = now();
      // a one-row "prompt" makes the first step a decode step too; no eos, so every step runs
      const n = (await generateGreedy(text, cache, stepEmbedding, { maxNewTokens: o.decodeSteps, eosTokenIds: [] })).length;
      if (n !== o.decodeSteps) throw new Error(`decode: ${n} of ${o.decodeSteps} steps`);
      return { wallMs: now() - start };
    };
    const serial = await warmThenBest(o.warmMs, () => decodeSerial(false));
    const decode = await warmThenBest(o.warmMs, decodeGenerate);
    const decodeGpu = timer ? median((await decodeSerial(true)).perStepGpu) : null;
    const wallMsPerToken = decode.wallMs / o.decodeSteps;
    const serialMsPerToken = serial.wallMs / o.decodeSteps;
    log(`decode from ${o.contextTokens}: ${(1e3 / wallMsPerToken).toFixed(1)} tokens/s (${wallMsPerToken.toFixed(2)} ms wall; one step at a time ${(1e3 / serialMsPerToken).toFixed(1)} tokens/s; ${decodeGpu?.toFixed(3) ?? '-'} ms GPU per token, ${decodeDispatches} dispatches)`);

    // ---- (d) optional: the same three stages once more, every dispatch timed on its own
    let kernels: ModelBenchResult['kernels'];
    if (o.perDispatch && gpu.features.timestamps) {
      const perDispatch = own(new GpuTimer(gpu.device, 1024, true));
      const stage = async (label: string, record: (rec: CommandRecorder) => void): Promise<KernelTime[]> => {
        const rec = new CommandRecorder(gpu, perDispatch, label);
        record(rec);
        rec.submit();
        return byPipeline(await perDispatch.readLabelled());
      };
      const pre = preprocessVideoFrames(gpu, [frames[0]], video);
      const frameKernels = await stage('frame', (rec) => recordFrame(rec, pre.pixelValues));
      pre.pixelValues.destroy();
      cache.truncate(o.contextTokens);
      const prefillKernels = await stage('prefill', recordPrefill);
      stepPosition.write([cache.length]);
      const decodeKernels = await stage('decode', recordDecodeStep);
      kernels = { frame: frameKernels, prefill: prefillKernels, decode: decodeKernels };
      for (const [name, list] of Object.entries(kernels)) {
        const total = list.reduce((a, k) => a + k.gpuMs, 0);
        const top = list.slice(0, 6).map((k) => `${k.pipeline} ${k.gpuMs.toFixed(3)} ms (${k.dispatches}×)`);
        log(`${name}, dispatch by dispatch: ${total.toFixed(3)} ms GPU; largest: ${top.join('; ')}`);
      }
    }

    const memory = tally.summary();
    const kvTensors = cache.gpuBytes;
    return {
      model: o.label,
      format: o.format,
      precision,
      timing: timer ? 'timestamp-query' : 'wall-clock',
      frame: {
        preprocessWallMs: frame.preMs,
        visionConnectorGpuMs: frame.gpu,
        visionConnectorWallMs: frame.modelWallMs,
        totalWallMs: frame.wallMs,
        framesPerSecond: 1e3 / frame.wallMs,
        pipelinedFramesPerSecond: pipelinedFps,
        dispatches: frameDispatches,
      },
      prefill: { tokens: prefillTokens, cachedTokens: o.contextTokens, gpuMs: prefill.gpu, wallMs: prefill.wallMs, dispatches: prefillDispatches },
      kernels,
      decode: { cachedTokens: o.contextTokens, steps: o.decodeSteps, tokensPerSecond: 1e3 / wallMsPerToken, wallMsPerToken, serialTokensPerSecond: 1e3 / serialMsPerToken, gpuMsPerToken: decodeGpu, dispatchesPerToken: decodeDispatches },
      memory: {
        weightsBytes: memory.weights,
        kvCacheBytes: memory['kv-cache'],
        workspaceBytes: memory.workspace,
        benchIoBytes: memory['bench-io'],
        peakStorageBytes: memory.peak,
        reachable: { kvCacheTensors: kvTensors, textHeadAndEmbedding: weightBytes(text.head) + text.embedTable.byteLength },
      },
    };
  } finally {
    for (const x of created.reverse()) x.destroy();
    timer?.destroy();
    tally.detach();
  }
}

const MB = (b: number) => (b / 2 ** 20).toFixed(1);
const f = (x: number | null, digits = 2) => (x === null ? '–' : x.toFixed(digits));

/** One row per (model, format, precision). */
export function markdownTable(results: readonly ModelBenchResult[]): string {
  let md = '| model | weights | math | frame: preprocess ms (wall) | frame: vision+connector ms GPU / wall | frame total ms (wall) | frames/s (1 at a time / pipelined) | prefill ms GPU / wall | decode tok/s wall (one step at a time) | decode ms/token GPU | dispatches (frame / prefill / token) | GPU MiB: weights + KV + workspace (peak storage) |\n';
  md += '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n';
  for (const r of results) {
    const m = r.memory;
    md += `| ${r.model} | ${r.format} | ${r.precision} | ${f(r.frame.preprocessWallMs)} | ${f(r.frame.visionConnectorGpuMs)} / ${f(r.frame.visionConnectorWallMs)} | ${f(r.frame.totalWallMs)} | ${f(r.frame.framesPerSecond, 1)} / ${f(r.frame.pipelinedFramesPerSecond, 1)} | ${f(r.prefill.gpuMs)} / ${f(r.prefill.wallMs)} (${r.prefill.tokens} tok after ${r.prefill.cachedTokens}) | ${f(r.decode.tokensPerSecond, 1)} (${f(r.decode.serialTokensPerSecond, 1)}) | ${f(r.decode.gpuMsPerToken, 3)} | ${r.frame.dispatches} / ${r.prefill.dispatches} / ${r.decode.dispatchesPerToken} | ${MB(m.weightsBytes)} + ${MB(m.kvCacheBytes)} + ${MB(m.workspaceBytes)} (${MB(m.peakStorageBytes)}) |\n`;
  }
  return md;
}
