// The needle benchmark's results file (written by needle-bench.ts, read by needle-report.ts) and
// the per-cell summary both compute from its raw per-question records.
import type { QuestionFamily } from '../src/needle/render';
import type { ColorName, RareShape } from '../src/needle/shapes';

export const RESULTS_SCHEMA = 'streamvlm-needle-bench/1';

/** Where the needle's frame was in the answer's context: retrieved, in the window, or one of the sampled frames. */
export type HitSource = 'memory' | 'window' | 'sampled';

export interface QuestionRecord {
  family: QuestionFamily;
  shape: RareShape;
  question: string;
  expected: string;
  answer: string;
  /** answer.trim() === expected. */
  correct: boolean;
  /** The needle the question is about (null: a presence question whose answer is 'no'). */
  needleFrame: number | null;
  /** That needle's cell depth (the requested one; its frame is round(depth·(frames − 1))). */
  depth: number | null;
  /** Whether the needle's frame was among the frames the answer saw, and how it got there. */
  hit: HitSource | null;
  /** Frames the answer saw (retrieved + window, or sampled). */
  contextFrames: number;
  /** The stream frames that came from memory, in context order (retrieved ones; absent in older files). */
  memoryFrames?: number[];
  firstTokenMs: number;
  totalMs: number;
}

export interface MethodRun {
  /** 'kv-none' | 'kv-8' | 'kv-4' | 'kv-2' (memory configs), 'window', 'uniform8', 'allgpu'. */
  method: string;
  /** Set when the method was not run on this stream (e.g. 'does not fit: …'); then no questions. */
  skipped?: string;
  /** Per-frame ingest time of this method's own engine (window reuses a memory engine: none). */
  ingestMsMean?: number;
  ingestMsMedian?: number;
  /** Frames the engine ended with in its window and its memory store. */
  windowFrames?: number;
  storeFrames?: number;
  storeBytes?: number;
  /**
   * Shared ingest (RunSettings.sharedIngest): the method whose engine ingested the stream, this
   * method's store being that engine's re-encoded; such a method has no ingest time of its own.
   */
  ingestOf?: string;
  /** uniform8: the stream frames it sampled. window: the memory engine it asked. */
  sampledFrames?: number[];
  engineOf?: string;
  questions: QuestionRecord[];
}

export interface StreamRecord {
  seed: number;
  frames: number;
  depths: number[];
  needles: { frame: number; time: string; depth: number; shape: RareShape; color: ColorName }[];
  wallSeconds: number;
  methods: MethodRun[];
}

export interface Count {
  correct: number;
  total: number;
}

export interface RecallCount {
  /** Questions about a needle (colour, time, presence 'yes'). */
  total: number;
  /** Of those, the needle's frame was in context: retrieved from memory, in the window, sampled. */
  memory: number;
  window: number;
  sampled: number;
}

/** One (method, length, depth) cell. */
export interface Cell {
  method: string;
  frames: number;
  depth: number;
  color: Count;
  time: Count;
  /** Presence questions about this cell's needles (answer 'yes'). */
  presence: Count;
  recall: RecallCount;
  /** Median time to first token of the cell's questions. */
  firstTokenMsMedian: number | null;
}

/** One (method, length): every depth together, plus what has no depth. */
export interface LengthSummary {
  method: string;
  frames: number;
  streams: number;
  color: Count;
  time: Count;
  presenceYes: Count;
  /** Presence questions about shapes the stream does not hold (answer 'no'). */
  presenceNo: Count;
  recall: RecallCount;
  firstTokenMsMedian: number | null;
  firstTokenMsP90: number | null;
  /** Mean over streams of the mean ingest time per frame (null for methods without an engine of their own). */
  ingestMsPerFrame: number | null;
  /** Why the method was skipped at this length (e.g. does not fit), when it was. */
  skipped: string | null;
}

export interface NeedleResults {
  schema: typeof RESULTS_SCHEMA;
  startedAt: string;
  updatedAt: string;
  /** 'running' while streams remain, 'done', 'max-seconds' (stopped starting new streams) or 'error' (see error). */
  status: 'running' | 'done' | 'max-seconds' | 'error';
  error?: string;
  elapsedSeconds: number;
  host: { adapter: string; f16: boolean; precision: string; node: string };
  model: string;
  settings: {
    lengths: number[];
    depths: number[];
    seedsPerCell: number;
    firstSeed: number;
    needlesPerStream: number;
    configs: string[];
    baselines: string[];
    windowFrames: number;
    topK: number;
    maxAnswerTokens: number;
    maxSeconds: number | null;
    /** This file's part of the plan (--shard i/n: jobs whose run-order index is i mod n), or null for all of it. */
    shard?: { index: number; count: number } | null;
    /** The memory engines' retrieval policy (--retrieval); absent: the engine's default. */
    retrieval?: string;
    /** --shared-ingest: one raw engine ingested for every memory config (RunSettings.sharedIngest). */
    sharedIngest?: boolean;
  };
  plan: { streamsPerLength: number; streamsPlanned: number; scheme: string };
  streams: StreamRecord[];
  summary: { lengths: LengthSummary[]; cells: Cell[] };
}

const count = (records: QuestionRecord[]): Count => ({ correct: records.filter((r) => r.correct).length, total: records.length });

function recall(records: QuestionRecord[]): RecallCount {
  const about = records.filter((r) => r.needleFrame !== null);
  const from = (s: HitSource) => about.filter((r) => r.hit === s).length;
  return { total: about.length, memory: from('memory'), window: from('window'), sampled: from('sampled') };
}

function quantile(xs: number[], q: number): number | null {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Report order: the memory configs from raw to 2 bits, then the baselines. */
const METHOD_ORDER = ['kv-none', 'kv-8', 'kv-4', 'kv-2', 'window', 'uniform8', 'allgpu'];
const methodRank = (m: string) => (METHOD_ORDER.includes(m) ? METHOD_ORDER.indexOf(m) : METHOD_ORDER.length);

/** Cells and per-length figures, from the raw records of every stream (method, length, depth order). */
export function summarize(streams: StreamRecord[]): { lengths: LengthSummary[]; cells: Cell[] } {
  const runs = streams.flatMap((s) => s.methods.map((m) => ({ s, m })));
  const methods = [...new Set(runs.map((r) => r.m.method))].sort((a, b) => methodRank(a) - methodRank(b));
  const lengths = [...new Set(streams.map((s) => s.frames))].sort((a, b) => a - b);
  const depths = [...new Set(streams.flatMap((s) => s.depths))].sort((a, b) => a - b);
  const outLengths: LengthSummary[] = [];
  const cells: Cell[] = [];
  for (const method of methods) {
    for (const frames of lengths) {
      const here = runs.filter((r) => r.m.method === method && r.s.frames === frames);
      if (here.length === 0) continue;
      const done = here.filter((r) => !r.m.skipped);
      const qs = done.flatMap((r) => r.m.questions);
      const ingest = done.map((r) => r.m.ingestMsMean).filter((x): x is number => x !== undefined);
      const ttft = qs.map((q) => q.firstTokenMs);
      outLengths.push({
        method,
        frames,
        streams: done.length,
        color: count(qs.filter((q) => q.family === 'color')),
        time: count(qs.filter((q) => q.family === 'time')),
        presenceYes: count(qs.filter((q) => q.family === 'presence' && q.needleFrame !== null)),
        presenceNo: count(qs.filter((q) => q.family === 'presence' && q.needleFrame === null)),
        recall: recall(qs),
        firstTokenMsMedian: quantile(ttft, 0.5),
        firstTokenMsP90: quantile(ttft, 0.9),
        ingestMsPerFrame: ingest.length ? ingest.reduce((a, b) => a + b, 0) / ingest.length : null,
        skipped: done.length === 0 ? (here[0].m.skipped ?? null) : null,
      });
      if (done.length === 0) continue;
      for (const depth of depths) {
        const at = qs.filter((q) => q.depth === depth);
        if (at.length === 0) continue;
        cells.push({
          method,
          frames,
          depth,
          color: count(at.filter((q) => q.family === 'color')),
          time: count(at.filter((q) => q.family === 'time')),
          presence: count(at.filter((q) => q.family === 'presence')),
          recall: recall(at),
          firstTokenMsMedian: quantile(at.map((q) => q.firstTokenMs), 0.5),
        });
      }
    }
  }
  return { lengths: outLengths, cells };
}
