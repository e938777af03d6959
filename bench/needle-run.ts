// One needle stream through every method of the benchmark: the memory configs and the baselines.
import { InputError } from '../src/errors';
import { StreamEngine } from '../src/engine/stream-engine';
import type { AskEvent, Moment, StreamEngineOptions } from '../src/engine/types';
import type { KvStoreBits } from '../src/memory/frame-block';
import { transcodeStore } from '../src/memory/transcode';
import { codecOf } from '../src/memory/codecs/registry';
import type { RetrievalPolicyName } from '../src/memory/retrieval/registry';
import type { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { planNeedleStream, type NeedleQuestion, type NeedleStream } from '../src/needle/render';
import { frameMs, needleFrame } from './needle-frames';
import type { StreamJob } from './needle-plan';
import type { HitSource, MethodRun, QuestionRecord, StreamRecord } from './needle-results';
import { answerOnePrompt, uniformPicks } from './needle-uniform';

export const BASELINES = ['window', 'uniform8', 'allgpu'] as const;
export type Baseline = (typeof BASELINES)[number];

export interface RunSettings {
  configs: KvStoreBits[];
  baselines: Baseline[];
  windowFrames: number;
  topK: number;
  maxAnswerTokens: number;
  /** Also ask every memory engine with answerContext 'restore' (method `kv-<bits>-restore`). */
  restoreVariant: boolean;
  /** The memory engines' retrieval policy (memory/retrieval/registry.ts); absent: the engine's default. */
  retrieval?: RetrievalPolicyName;
  /**
   * One raw engine ingests the stream for every memory config (see runStream); absent or false:
   * one engine per config, each ingesting.
   */
  sharedIngest?: boolean;
}

const UNIFORM_FRAMES = 8;

/** The engine option for the run's retrieval policy (none: the engine's default). */
const retrievalOf = (rs: RunSettings) => (rs.retrieval === undefined ? {} : { retrieval: rs.retrieval });

interface Answer {
  text: string;
  firstTokenMs: number;
  totalMs: number;
  /** Stream frame indices the answer saw, with how each got into the context. */
  context: { frame: number; from: HitSource }[];
}

interface EngineRun {
  method: string;
  engine: StreamEngine;
  ingestMs: number[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
export const methodOf = (bits: KvStoreBits) => `kv-${String(bits)}`;

async function askEngine(engine: StreamEngine, question: string, topK?: number, answerContext?: 'restore'): Promise<Answer> {
  let moments: Moment[] = [];
  let done: Extract<AskEvent, { type: 'done' }> | null = null;
  for await (const ev of engine.ask(question, { ...(topK === undefined ? {} : { topK }), ...(answerContext ? { answerContext } : {}) })) {
    if (ev.type === 'moments') moments = ev.moments;
    else if (ev.type === 'done') done = ev;
  }
  if (!done) throw new Error(`the answer to "${question}" ended without a done event`);
  // frame i is at i s, so the timestamp names the stream frame (an engine's own indices may not)
  const context = moments.map((m) => ({ frame: Math.round(m.timestampMs / 1000), from: m.from }));
  return { text: done.text, firstTokenMs: done.timing.firstTokenMs, totalMs: done.timing.totalMs, context };
}

function questionRecord(stream: NeedleStream, depthOf: Map<number, number>, q: NeedleQuestion, a: Answer): QuestionRecord {
  // colour and time questions always have their needle; a presence question has one iff the answer is 'yes'
  const needle = stream.needles.find((n) => n.shape === q.shape);
  const needleFrame = needle ? needle.frame : null;
  const hit = needleFrame === null ? null : (a.context.find((c) => c.frame === needleFrame)?.from ?? null);
  return {
    family: q.family,
    shape: q.shape,
    question: q.question,
    expected: q.answer,
    answer: a.text,
    correct: a.text.trim() === q.answer,
    needleFrame,
    depth: needleFrame === null ? null : (depthOf.get(needleFrame) ?? null),
    hit,
    contextFrames: a.context.length,
    memoryFrames: a.context.filter((c) => c.from === 'memory').map((c) => c.frame),
    firstTokenMs: a.firstTokenMs,
    totalMs: a.totalMs,
  };
}

/** One line per method: correct / asked per family, and recall. */
export function methodLine(m: MethodRun): string {
  if (m.skipped) return `${m.method}: skipped (${m.skipped})`;
  const of = (f: string) => {
    const qs = m.questions.filter((q) => q.family === f);
    return `${qs.filter((q) => q.correct).length}/${qs.length}`;
  };
  const about = m.questions.filter((q) => q.needleFrame !== null);
  const ttft = median(m.questions.map((q) => q.firstTokenMs));
  const ingest = m.ingestMsMean === undefined ? '' : `, ${m.ingestMsMean.toFixed(1)} ms/frame`;
  return `${m.method}: colour ${of('color')} time ${of('time')} presence ${of('presence')} recall ${about.filter((q) => q.hit).length}/${about.length}, ttft ${ttft.toFixed(0)} ms${ingest}`;
}

/**
 * Runs every method once on a short stream (seed 0, not a benchmark seed) before measuring: the
 * first use of each shader variant compiles its pipeline, which would otherwise land in the first
 * stream's ingest and answer times.
 */
export async function warmUp(model: SmolVlm, rs: RunSettings): Promise<void> {
  const stream = planNeedleStream({ seed: 0, frames: UNIFORM_FRAMES, needles: 1 });
  const frames = Array.from({ length: stream.frames }, (_, i) => needleFrame(stream, i));
  const question = stream.questions[0].question;
  for (const kvBits of rs.configs) {
    // a window of 2 and top-k 1: frames reach the store and are retrieved and restored
    const engine = await StreamEngine.create(model, { windowFrames: 2, topK: 1, kvBits, maxAnswerTokens: rs.maxAnswerTokens, ...retrievalOf(rs) });
    try {
      for (const [i, f] of frames.entries()) await engine.ingest(f, frameMs(i));
      await askEngine(engine, question);
      await askEngine(engine, question, 0);
    } finally {
      await engine.dispose();
    }
  }
  if (rs.baselines.includes('uniform8')) await answerOnePrompt(model, frames, frames.map((_, i) => frameMs(i)), question, rs.maxAnswerTokens);
}

/**
 * Ingests the stream's frames and asks every question of the stream, returning its record; engines
 * are disposed before returning.
 *
 * By default one engine per memory config (and the all-GPU baseline's) ingests, in lockstep so each
 * frame is rendered once, and each is asked every question. With `sharedIngest`, one raw engine
 * (window backups on) ingests for every config: ingest never reads the memory store (a frame
 * attends to the sinks and the raw window only), so its stream is every config's stream; each
 * config's store is then its raw store re-encoded on the GPU by that config's own evict path
 * (memory/transcode.ts: bit for bit the blocks an engine of that config evicts), and an engine of
 * that config resumes it with the raw engine's window rebuilt from the backups (the path a lost
 * GPU takes) and answers. One ingest instead of one a config; the configs' methods then have no
 * ingest time of their own (`ingestOf` names the engine that ingested).
 *
 * The window baseline asks a memory engine again with no retrieval; uniform8 answers from
 * re-encoded sampled frames.
 */
export async function runStream(model: SmolVlm, job: StreamJob, rs: RunSettings, log: (line: string) => void): Promise<StreamRecord> {
  const t0 = performance.now();
  const stream = planNeedleStream({ seed: job.seed, frames: job.frames, depths: job.depths, needles: job.depths.length });
  const depthOf = new Map(job.depths.map((d) => [Math.round(d * (job.frames - 1)), d]));
  const base = { topK: rs.topK, windowFrames: rs.windowFrames, maxAnswerTokens: rs.maxAnswerTokens, ...retrievalOf(rs) };
  const shared = rs.sharedIngest === true;
  const runs: EngineRun[] = [];
  const methods: MethodRun[] = [];
  const askAll = async (engine: StreamEngine, answerContext?: 'restore', topK?: number) => {
    const questions: QuestionRecord[] = [];
    for (const q of stream.questions) questions.push(questionRecord(stream, depthOf, q, await askEngine(engine, q.question, topK, answerContext)));
    return questions;
  };
  // a memory engine's answers, and with restoreVariant the same engine's from ReKV-restored K/V
  const askMemory = async (engine: StreamEngine, method: string, run: Partial<MethodRun>) => {
    methods.push({ method, ...run, ...statsOf(engine), questions: await askAll(engine) });
    // the same engine and retrieval, the context as ReKV builds it: the frames' K/V from when they arrived
    if (rs.restoreVariant) methods.push({ method: `${method}-restore`, engineOf: method, questions: await askAll(engine, 'restore') });
  };
  try {
    if (shared) runs.push({ method: methodOf('none'), engine: await StreamEngine.create(model, { ...base, kvBits: 'none', windowBackup: true }), ingestMs: [] });
    else for (const kvBits of rs.configs) runs.push({ method: methodOf(kvBits), engine: await StreamEngine.create(model, { ...base, kvBits }), ingestMs: [] });
    if (rs.baselines.includes('allgpu')) {
      // every frame stays in the window at full precision; create refuses when the context would exceed the model's positions
      try {
        runs.push({ method: 'allgpu', engine: await StreamEngine.create(model, { ...base, windowFrames: job.frames, topK: 0, kvBits: 'none' }), ingestMs: [] });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        methods.push({ method: 'allgpu', skipped: `does not fit: ${e.message}`, questions: [] });
      }
    }
    for (let i = 0; i < job.frames; i++) {
      const frame = needleFrame(stream, i);
      for (const r of runs) {
        const t = performance.now();
        await r.engine.ingest(frame, frameMs(i));
        r.ingestMs.push(performance.now() - t);
      }
      if (i % 300 === 299) log(`  seed ${job.seed}: ${i + 1}/${job.frames} frames ingested`);
    }
    const ingestOf = (r: EngineRun) => ({ ingestMsMean: mean(r.ingestMs), ingestMsMedian: median(r.ingestMs) });
    for (const r of runs) {
      if (r.method === 'allgpu') methods.push({ method: r.method, ...ingestOf(r), ...statsOf(r.engine), questions: await askAll(r.engine) });
      else if (!shared || rs.configs.includes('none')) await askMemory(r.engine, r.method, ingestOf(r));
    }
    if (rs.baselines.includes('window')) {
      // the window is full precision in every memory config, so any of them answers the same; topK 0 = sinks + window only
      const r = runs.find((x) => x.method === methodOf(4)) ?? runs.find((x) => x.method !== 'allgpu');
      if (!r) throw new InputError('the window baseline needs a memory config (--configs) to ask');
      methods.push({ method: 'window', engineOf: r.method, questions: await askAll(r.engine, undefined, 0) });
    }
    if (shared) await askTranscoded(model, runs[0], rs, base, askMemory, log);
    if (rs.baselines.includes('uniform8')) {
      const picks = uniformPicks(job.frames, UNIFORM_FRAMES);
      // rendered (and y4m round-tripped) before the clock starts: a browser runtime has its frames decoded already
      const images = picks.map((i) => needleFrame(stream, i));
      const questions: QuestionRecord[] = [];
      for (const q of stream.questions) {
        const a = await answerOnePrompt(model, images, picks.map(frameMs), q.question, rs.maxAnswerTokens);
        questions.push(questionRecord(stream, depthOf, q, { ...a, context: picks.map((frame) => ({ frame, from: 'sampled' })) }));
      }
      methods.push({ method: 'uniform8', sampledFrames: picks, questions });
    }
  } finally {
    for (const r of runs) await r.engine.dispose();
  }
  return {
    seed: job.seed,
    frames: job.frames,
    depths: job.depths,
    needles: stream.needles.map((n) => ({ frame: n.frame, time: n.time, depth: n.depth, shape: n.shape, color: n.color })),
    wallSeconds: (performance.now() - t0) / 1000,
    methods,
  };
}

/** What a method's record keeps of its engine's end state. */
function statsOf(engine: StreamEngine) {
  const s = engine.stats();
  return { windowFrames: s.windowFrames, storeFrames: s.storeFrames, storeBytes: s.storeBytes };
}

/**
 * sharedIngest: every quantized config's engine, resumed from the raw engine's state with the raw
 * store re-encoded for it, asked as its own engine would be (see runStream).
 */
async function askTranscoded(
  model: SmolVlm,
  raw: EngineRun,
  rs: RunSettings,
  base: StreamEngineOptions,
  askMemory: (engine: StreamEngine, method: string, run: Partial<MethodRun>) => Promise<void>,
  log: (line: string) => void,
): Promise<void> {
  const index = () => raw.engine.createRetrievalIndex();
  const meta = raw.engine.meta;
  const state = await raw.engine.handOver();
  for (const kvBits of rs.configs) {
    if (kvBits === 'none') continue;
    const t0 = performance.now();
    const store = await transcodeStore(model.gpu, { ...meta, bits: kvBits, codec: codecOf({ bits: kvBits }).id }, state.store, { index: index() });
    log(`  ${methodOf(kvBits)}: ${store.frames} frames re-encoded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const engine = await StreamEngine.create(model, { ...base, kvBits }, { resume: { ...state, store, spill: null } });
    try {
      await askMemory(engine, methodOf(kvBits), { ingestOf: raw.method });
    } finally {
      await engine.dispose();
    }
  }
}
