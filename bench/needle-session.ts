// The needle benchmark's command line and results file, shared by its drivers: needle-bench.ts
// (Node/Dawn) and needle-browser.ts (headless Chromium). Options, this shard's jobs, the results
// file rewritten after every stream, --resume and the --max-seconds budget live here once; a
// driver only loads the model its way and says how one stream is run.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { checkKnownOptions, numberOption, option, parseArgs, type ParsedArgs } from '../src/cli/args';
import type { Precision } from '../src/kernels/common';
import type { KvStoreBits } from '../src/memory/frame-block';
import { isRetrievalPolicyName, RETRIEVAL_POLICIES } from '../src/memory/retrieval/registry';
import { planJobs, planProblem, shardJobs, streamsPerLength, type PlanSettings, type StreamJob } from './needle-plan';
import { RESULTS_SCHEMA, summarize, type NeedleResults, type StreamRecord } from './needle-results';
import { BASELINES, methodLine, type Baseline, type RunSettings } from './needle-run';

/** The options every needle driver takes (a driver adds its own). */
export const NEEDLE_OPTIONS = ['model', 'lengths', 'depths', 'seeds-per-cell', 'first-seed', 'needles-per-stream', 'configs', 'baselines', 'precision', 'max-seconds', 'out', 'shard', 'retrieval'];
export const NEEDLE_FLAGS = ['resume', 'restore-variant', 'shared-ingest'];

export interface NeedleOptions {
  model: string;
  plan: PlanSettings;
  precision: Precision | 'auto';
  maxSeconds: number | null;
  out: string;
  shard: { index: number; count: number } | null;
  run: RunSettings;
  resume: boolean;
}

/** Prints `<command>: message` and exits 2 (a bad command line). */
export function failer(command: string): (message: string) => never {
  return (message) => {
    console.error(`${command}: ${message}`);
    process.exit(2);
  };
}

/**
 * The command line of a needle driver: the shared options checked (exit 2 with a message on a bad
 * one), plus the driver's `extra` options and flags left in the returned args for it to read.
 * `defaultModel`: the model when --model is absent (null: --model is required).
 */
export function parseNeedleOptions(argv: string[], command: string, extra: { options?: string[]; flags?: string[]; defaultModel?: string | null } = {}): { options: NeedleOptions; args: ParsedArgs } {
  const fail = failer(command);
  let args: ParsedArgs;
  try {
    args = parseArgs(argv, [...NEEDLE_FLAGS, ...(extra.flags ?? [])]);
    checkKnownOptions(args, command, [...NEEDLE_OPTIONS, ...(extra.options ?? [])]);
  } catch (e) {
    return fail((e as Error).message);
  }
  const list = (name: string, fallback: string) => (option(args, name) ?? fallback).split(',').map((x) => x.trim()).filter((x) => x !== '');
  const numbers = (name: string, fallback: string) => list(name, fallback).map((x) => (Number.isFinite(Number(x)) ? Number(x) : fail(`--${name}: ${x} is not a number`)));
  const whole = (name: string, fallback: number) => {
    try {
      return numberOption(args, name, { min: 0 }) ?? fallback;
    } catch (e) {
      return fail((e as Error).message);
    }
  };

  const model = option(args, 'model') ?? extra.defaultModel ?? fail('--model <folder|url> is required');
  const plan: PlanSettings = {
    lengths: numbers('lengths', '60,600,3600'),
    depths: numbers('depths', '0,0.25,0.5,0.75,1'),
    seedsPerCell: whole('seeds-per-cell', 20),
    firstSeed: whole('first-seed', 1000),
    // 3, not 4: with all four rare shapes in a stream every presence answer would be 'yes'
    needlesPerStream: whole('needles-per-stream', 3),
  };
  const problem = planProblem(plan);
  if (problem) fail(problem);
  const configs: KvStoreBits[] = list('configs', 'none,8,4,2').map((c) => (c === 'none' ? 'none' : ['8', '4', '2'].includes(c) ? (Number(c) as KvStoreBits) : fail(`--configs: ${c} is not none, 8, 4 or 2`)));
  const baselines = list('baselines', BASELINES.join(',')).map((b) => ((BASELINES as readonly string[]).includes(b) ? (b as Baseline) : fail(`--baselines: ${b} is not one of ${BASELINES.join(', ')}`)));
  if (baselines.includes('window') && configs.length === 0) fail('the window baseline asks a memory engine: give at least one --configs');
  const precision = option(args, 'precision') ?? 'auto';
  if (!['f32', 'f16', 'auto'].includes(precision)) fail(`--precision must be f32, f16 or auto, not ${precision}`);
  const maxSecondsArg = option(args, 'max-seconds');
  const maxSeconds = maxSecondsArg === undefined ? null : Number(maxSecondsArg);
  if (maxSeconds !== null && !(maxSeconds > 0)) fail(`--max-seconds must be a number > 0, not ${maxSecondsArg}`);
  const retrievalArg = option(args, 'retrieval');
  const retrieval = retrievalArg === undefined || isRetrievalPolicyName(retrievalArg) ? retrievalArg : fail(`--retrieval must be one of ${Object.keys(RETRIEVAL_POLICIES).join(', ')}, not ${retrievalArg}`);
  const shardArg = option(args, 'shard');
  const shardMatch = shardArg === undefined ? null : /^(\d+)\/(\d+)$/.exec(shardArg);
  if (shardArg !== undefined && (!shardMatch || Number(shardMatch[1]) >= Number(shardMatch[2]))) fail(`--shard must be i/n with 0 ≤ i < n, not ${shardArg}`);
  return {
    args,
    options: {
      model,
      plan,
      precision: precision as Precision | 'auto',
      maxSeconds,
      out: option(args, 'out') ?? 'needle-results.json',
      shard: shardMatch ? { index: Number(shardMatch[1]), count: Number(shardMatch[2]) } : null,
      run: { configs, baselines, windowFrames: 16, topK: 8, maxAnswerTokens: 8, restoreVariant: args.flags.has('restore-variant'), ...(retrieval === undefined ? {} : { retrieval }), ...(args.flags.has('shared-ingest') ? { sharedIngest: true } : {}) },
      resume: args.flags.has('resume'),
    },
  };
}

/** Runs one stream and returns its record (a driver's engine: Node/Dawn, a browser page, …). */
export type StreamRunner = (job: StreamJob) => Promise<StreamRecord>;

/**
 * One benchmark run's results file: created (or read back with --resume), rewritten after every
 * stream, and the loop that runs the streams left within the --max-seconds budget.
 */
export class NeedleSession {
  readonly results: NeedleResults;
  /** This shard's streams, in run order. */
  readonly jobs: StreamJob[];
  /** Of those, the ones the results file lacks. */
  readonly todo: StreamJob[];
  private readonly before: number;
  private readonly fail: (message: string) => never;

  constructor(
    private readonly o: NeedleOptions,
    host: NeedleResults['host'],
    private readonly elapsed: () => number,
    private readonly log: (line: string) => void,
    command: string,
  ) {
    this.fail = failer(command);
    this.jobs = o.shard === null ? planJobs(o.plan) : shardJobs(planJobs(o.plan), o.shard.index, o.shard.count);
    const fresh: NeedleResults = {
      schema: RESULTS_SCHEMA,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      status: 'running',
      elapsedSeconds: 0,
      host,
      model: o.model,
      settings: { ...o.plan, configs: o.run.configs.map(String), baselines: o.run.baselines, windowFrames: o.run.windowFrames, topK: o.run.topK, maxAnswerTokens: o.run.maxAnswerTokens, maxSeconds: o.maxSeconds, shard: o.shard, ...(o.run.retrieval === undefined ? {} : { retrieval: o.run.retrieval }), ...(o.run.sharedIngest ? { sharedIngest: true } : {}) },
      plan: {
        streamsPerLength: streamsPerLength(o.plan),
        streamsPlanned: this.jobs.length,
        scheme:
          'stream j of each length has seed firstSeed + j; its needles take slots jK … jK+K−1 (K = min(needlesPerStream, depths)) of a cycle over the depths, ' +
          'so each (length, depth) cell gets seedsPerCell needles; streams run round-robin over lengths',
      },
      streams: [],
      summary: { lengths: [], cells: [] },
    };
    this.results = this.resumed(fresh) ?? fresh;
    this.before = this.results.elapsedSeconds;
    const done = new Set(this.results.streams.map((s) => `${s.seed}/${s.frames}`));
    this.todo = this.jobs.filter((j) => !done.has(`${j.seed}/${j.frames}`));
  }

  /** With --resume, the earlier run's file when its settings are these (maxSeconds aside). */
  private resumed(fresh: NeedleResults): NeedleResults | null {
    if (!this.o.resume || !existsSync(this.o.out)) return null;
    const old = JSON.parse(readFileSync(this.o.out, 'utf8')) as NeedleResults;
    const same = (r: NeedleResults) => JSON.stringify([r.schema, r.model, r.host.precision, { ...r.settings, maxSeconds: null }]);
    if (same(old) !== same(fresh)) this.fail(`--resume: ${this.o.out} was written with other settings (model, precision, lengths, depths, seeds, configs or baselines); use another --out`);
    return { ...old, status: 'running', error: undefined, settings: fresh.settings, host: fresh.host };
  }

  /** Whole file to a temporary name, then renamed: a run killed mid-write keeps the previous file. */
  save(): void {
    const r = this.results;
    r.updatedAt = new Date().toISOString();
    r.elapsedSeconds = this.before + this.elapsed();
    r.summary = summarize(r.streams);
    writeFileSync(`${this.o.out}.tmp`, JSON.stringify(r, null, 1));
    renameSync(`${this.o.out}.tmp`, this.o.out);
  }

  /** The line a driver logs before it starts. */
  describe(): string {
    const { run } = this.o;
    return `${this.jobs.length} streams (${this.results.plan.streamsPerLength} per length × ${this.o.plan.lengths.length} lengths), ${this.todo.length} to run; methods ${[...run.configs.map((c) => `kv-${c}`), ...run.baselines].join(', ')} → ${this.o.out}`;
  }

  /**
   * Runs the streams left, each runner taking the next one when free (one runner: in run order,
   * one stream at a time). No stream starts after --max-seconds, nor one whose length's last stream
   * took longer than the time left. The first error stops every runner after its current stream
   * and is recorded in the file (status 'error'). Returns the exit code: 0, or 1 after an error.
   */
  async runAll(runners: StreamRunner[]): Promise<number> {
    const { results, log } = this;
    const maxSeconds = this.o.maxSeconds;
    const queue = [...this.todo];
    /** Seconds the last stream of each length took (to skip one that cannot finish within the budget). */
    const lastTook = new Map<number, number>();
    let skipped = 0;
    let stopped = false;
    let budgetSaid = false;
    const runnerLoop = async (run: StreamRunner, label: string) => {
      while (!stopped) {
        const job = queue.shift();
        if (!job) return;
        const left = maxSeconds === null ? Infinity : maxSeconds - this.elapsed();
        if (left <= 0) {
          if (!budgetSaid) log(`--max-seconds ${maxSeconds} reached`);
          budgetSaid = true;
          return;
        }
        if ((lastTook.get(job.frames) ?? 0) > left) {
          skipped++;
          continue;
        }
        log(`${label}stream ${this.jobs.length - queue.length}/${this.jobs.length}: seed ${job.seed}, ${job.frames} frames, needles at depths ${job.depths.join(', ')}`);
        const record = await run(job);
        results.streams.push(record);
        lastTook.set(job.frames, record.wallSeconds);
        this.save();
        for (const m of record.methods) log(`  ${label}${methodLine(m)}`);
        log(`  ${label}stream seed ${job.seed} (${job.frames} frames) took ${record.wallSeconds.toFixed(1)} s`);
      }
    };
    let exitCode = 0;
    await Promise.all(
      runners.map((run, i) =>
        runnerLoop(run, runners.length > 1 ? `[${i}] ` : '').catch((e: unknown) => {
          // the streams finished so far are in the file; say where it stopped
          stopped = true;
          const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          results.error = results.error ? `${results.error}; ${message}` : message;
          log(`error: ${message}`);
          exitCode = 1;
        }),
      ),
    );
    results.status = exitCode ? 'error' : results.streams.length === this.jobs.length ? 'done' : 'max-seconds';
    if (skipped) log(`${skipped} streams skipped: their length's last stream took longer than the time left`);
    this.save();
    log(`${results.status}: ${results.streams.length} streams in ${this.elapsed().toFixed(0)} s → ${this.o.out}`);
    return exitCode;
  }
}
