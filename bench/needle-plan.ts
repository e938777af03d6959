// Which streams the needle benchmark runs: seeds, lengths and the depths each stream's needles sit at.
import { MAX_NEEDLE_FRAMES } from '../src/needle/render';
import { RARE_SHAPES } from '../src/needle/shapes';

/** Seeds at or above this are the training set's (tools/needle/train_needle.py); the benchmark stays below. */
export const TRAINING_SEEDS_FROM = 1_000_000;

export interface PlanSettings {
  /** Stream lengths in frames (1 frame/s, so also seconds). */
  lengths: number[];
  depths: number[];
  seedsPerCell: number;
  firstSeed: number;
  /** Needles per stream, at most RARE_SHAPES.length (each rare shape at most once). */
  needlesPerStream: number;
}

export interface StreamJob {
  seed: number;
  frames: number;
  /** The cell depths of this stream's needles (distinct; from `depths`). */
  depths: number[];
}

/**
 * Depth rotation: a stream holds K = min(needlesPerStream, depths) needles, at K distinct depths.
 * Number the needle slots of a length's streams 0, 1, 2, … (stream j has slots jK … jK + K − 1);
 * slot s is at depth index s mod D. Consecutive slots are consecutive depth indices mod D, so a
 * stream's K ≤ D depths are distinct, and the first seedsPerCell·D slots give every depth exactly
 * seedsPerCell needles: ceil(seedsPerCell·D / K) streams per length, the last one possibly with
 * fewer needles. Stream j of every length has seed firstSeed + j (a paired design: the same
 * needle shapes and colours at every length; only the length and the frames differ).
 */
export function streamsPerLength(s: PlanSettings): number {
  const k = Math.min(s.needlesPerStream, s.depths.length);
  return Math.ceil((s.seedsPerCell * s.depths.length) / k);
}

export function depthsOfStream(s: PlanSettings, j: number): number[] {
  const D = s.depths.length;
  const k = Math.min(s.needlesPerStream, D);
  const slots = s.seedsPerCell * D;
  const out: number[] = [];
  for (let slot = j * k; slot < Math.min((j + 1) * k, slots); slot++) out.push(s.depths[slot % D]);
  return out;
}

/**
 * Every stream in run order: round-robin over lengths (stream 0 of each length, then stream 1, …),
 * so a run cut short by --max-seconds still has every length, and (rotation) every depth after
 * the first ceil(D / K) rounds.
 */
export function planJobs(s: PlanSettings): StreamJob[] {
  const jobs: StreamJob[] = [];
  const n = streamsPerLength(s);
  for (let j = 0; j < n; j++) for (const frames of s.lengths) jobs.push({ seed: s.firstSeed + j, frames, depths: depthsOfStream(s, j) });
  return jobs;
}

/**
 * Part `index` of `count` of the jobs, for `count` processes sharing one GPU: longest streams first,
 * each to the part with the fewest frames so far (ties: the lowest part), so the parts end at about
 * the same time; each part keeps run order. Deterministic, so every process computes the same split.
 */
export function shardJobs(jobs: StreamJob[], index: number, count: number): StreamJob[] {
  const load = new Array<number>(count).fill(0);
  const partOf = new Map<StreamJob, number>();
  const byLength = jobs.map((job, i) => ({ job, i })).sort((a, b) => b.job.frames - a.job.frames || a.i - b.i);
  for (const { job } of byLength) {
    const part = load.indexOf(Math.min(...load));
    partOf.set(job, part);
    load[part] += job.frames;
  }
  return jobs.filter((job) => partOf.get(job) === index);
}

/** Why the settings cannot be run, or null. */
export function planProblem(s: PlanSettings): string | null {
  if (s.lengths.length === 0 || s.depths.length === 0) return 'give at least one length and one depth';
  if (!Number.isInteger(s.needlesPerStream) || s.needlesPerStream < 1 || s.needlesPerStream > RARE_SHAPES.length) return `--needles-per-stream must be 1…${RARE_SHAPES.length}`;
  if (!Number.isInteger(s.seedsPerCell) || s.seedsPerCell < 1) return '--seeds-per-cell must be a whole number ≥ 1';
  const last = s.firstSeed + streamsPerLength(s) - 1;
  if (!Number.isInteger(s.firstSeed) || s.firstSeed < 0 || last >= TRAINING_SEEDS_FROM) {
    return `seeds ${s.firstSeed}…${last} must be whole numbers in 0…${TRAINING_SEEDS_FROM - 1} (seeds ≥ ${TRAINING_SEEDS_FROM} are the training set's)`;
  }
  if (new Set(s.depths).size !== s.depths.length) return 'depths must be distinct';
  for (const d of s.depths) if (!(d >= 0 && d <= 1)) return `depth ${d} is not in 0…1`;
  for (const frames of s.lengths) {
    if (!Number.isInteger(frames) || frames < 1 || frames > MAX_NEEDLE_FRAMES) return `length ${frames} is not a whole number of frames in 1…${MAX_NEEDLE_FRAMES}`;
    // planNeedleStream puts depth d on frame round(d·(N − 1)); two depths of a stream must differ
    const at = s.depths.map((d) => Math.round(d * (frames - 1)));
    if (new Set(at).size !== at.length) return `depths ${s.depths.join(', ')} do not name distinct frames of a ${frames}-frame stream`;
  }
  return null;
}
