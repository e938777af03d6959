// Needle in a stream (V-NIAH style) in Node (Dawn): rendered needle streams into the streaming
// engine at several memory configs, and baselines, scored on exact answers; see needle-plan.ts for
// which needles each stream holds and needle-results.ts for the JSON written.
//
//   node dist-node/needle-bench.js --model <folder> [--lengths 60,600,3600] [--depths 0,0.25,0.5,0.75,1]
//     [--seeds-per-cell 20] [--first-seed 1000] [--needles-per-stream 3] [--configs none,8,4,2]
//     [--baselines window,uniform8,allgpu] [--precision f32|f16|auto] [--max-seconds S] [--out needle-results.json] [--resume]
//     [--restore-variant]   (also answer from ReKV-restored K/V on the same engines: method kv-<bits>-restore)
//
// The results file is rewritten after every stream, so a run cut short keeps what it did; --resume
// reads it back and runs only the streams it lacks (same settings required), so a benchmark longer
// than one command's time limit runs as several commands. --max-seconds: no stream starts after S
// seconds, nor one whose length's last stream took longer than the time left. Progress on stderr.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { checkKnownOptions, numberOption, option, parseArgs } from '../src/cli/args';
import { modelSourceOf } from '../src/cli/model-source';
import { smolVlmOptions } from '../src/cli/load-options';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import type { Precision } from '../src/kernels/common';
import type { KvStoreBits } from '../src/memory/frame-block';
import { SmolVlm } from '../src/model/smolvlm';
import { planJobs, planProblem, streamsPerLength, type PlanSettings } from './needle-plan';
import { RESULTS_SCHEMA, summarize, type NeedleResults } from './needle-results';
import { BASELINES, methodLine, runStream, warmUp, type Baseline, type RunSettings } from './needle-run';

const OPTIONS = ['model', 'lengths', 'depths', 'seeds-per-cell', 'first-seed', 'needles-per-stream', 'configs', 'baselines', 'precision', 'max-seconds', 'out'];
const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (line: string) => console.error(`[needle-bench ${elapsed().toFixed(1)}s] ${line}`);
const fail = (message: string): never => {
  console.error(`needle-bench: ${message}`);
  process.exit(2);
};

const args = parseArgs(process.argv.slice(2), ['resume', 'restore-variant']);
try {
  checkKnownOptions(args, 'needle-bench', OPTIONS);
} catch (e) {
  fail((e as Error).message);
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

const model = option(args, 'model') ?? fail('--model <folder|url> is required');
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
const precisionArg = option(args, 'precision') ?? 'auto';
if (!['f32', 'f16', 'auto'].includes(precisionArg)) fail(`--precision must be f32, f16 or auto, not ${precisionArg}`);
const maxSecondsArg = option(args, 'max-seconds');
const maxSeconds = maxSecondsArg === undefined ? null : Number(maxSecondsArg);
if (maxSeconds !== null && !(maxSeconds > 0)) fail(`--max-seconds must be a number > 0, not ${maxSecondsArg}`);
const out = option(args, 'out') ?? 'needle-results.json';
const run: RunSettings = { configs, baselines, windowFrames: 16, topK: 8, maxAnswerTokens: 8, restoreVariant: args.flags.has('restore-variant') };

const gpu = await acquireNodeGpu();
const loadOptions = smolVlmOptions({ weightFormat: 'f16', precision: precisionArg as Precision | 'auto' }, gpu);
const adapter = `${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description}`.trim();
log(`adapter: ${adapter} (shader-f16 ${gpu.features.f16}); ${loadOptions.precision ?? 'f32'} math`);
const vlm = await SmolVlm.load(gpu, modelSourceOf(model), loadOptions);
log(`model ${model} loaded (max positions ${vlm.config.text.maxPositions})`);

const jobs = planJobs(plan);
const fresh: NeedleResults = {
  schema: RESULTS_SCHEMA,
  startedAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  status: 'running',
  elapsedSeconds: 0,
  host: { adapter, f16: gpu.features.f16, precision: vlm.precision, node: process.version },
  model,
  settings: { ...plan, configs: configs.map(String), baselines, windowFrames: run.windowFrames, topK: run.topK, maxAnswerTokens: run.maxAnswerTokens, maxSeconds },
  plan: {
    streamsPerLength: streamsPerLength(plan),
    streamsPlanned: jobs.length,
    scheme:
      'stream j of each length has seed firstSeed + j; its needles take slots jK … jK+K−1 (K = min(needlesPerStream, depths)) of a cycle over the depths, ' +
      'so each (length, depth) cell gets seedsPerCell needles; streams run round-robin over lengths',
  },
  streams: [],
  summary: { lengths: [], cells: [] },
};

/** With --resume, the earlier run's file when its settings are these (maxSeconds aside). */
function resumed(): NeedleResults | null {
  if (!args.flags.has('resume') || !existsSync(out)) return null;
  const old = JSON.parse(readFileSync(out, 'utf8')) as NeedleResults;
  const same = (r: NeedleResults) => JSON.stringify([r.schema, r.model, r.host.precision, { ...r.settings, maxSeconds: null }]);
  if (same(old) !== same(fresh)) fail(`--resume: ${out} was written with other settings (model, precision, lengths, depths, seeds, configs or baselines); use another --out`);
  return { ...old, status: 'running', error: undefined, settings: fresh.settings, host: fresh.host };
}
const results = resumed() ?? fresh;
const before = results.elapsedSeconds;
const done = new Set(results.streams.map((s) => `${s.seed}/${s.frames}`));

/** Whole file to a temporary name, then renamed: a run killed mid-write keeps the previous file. */
function save(): void {
  results.updatedAt = new Date().toISOString();
  results.elapsedSeconds = before + elapsed();
  results.summary = summarize(results.streams);
  writeFileSync(`${out}.tmp`, JSON.stringify(results, null, 1));
  renameSync(`${out}.tmp`, out);
}

const todo = jobs.filter((j) => !done.has(`${j.seed}/${j.frames}`));
log(`${jobs.length} streams (${results.plan.streamsPerLength} per length × ${plan.lengths.length} lengths), ${todo.length} to run; methods ${[...configs.map((c) => `kv-${c}`), ...baselines].join(', ')} → ${out}`);
save();
await warmUp(vlm, run);
log('warm-up done (pipelines compiled)');
let exitCode = 0;
/** Seconds the last stream of each length took (to skip one that cannot finish within the budget). */
const lastTook = new Map<number, number>();
let skipped = 0;
try {
  for (const job of todo) {
    const left = maxSeconds === null ? Infinity : maxSeconds - elapsed();
    if (left <= 0) {
      log(`--max-seconds ${maxSeconds} reached`);
      break;
    }
    if ((lastTook.get(job.frames) ?? 0) > left) {
      skipped++;
      continue;
    }
    log(`stream ${results.streams.length + 1}/${jobs.length}: seed ${job.seed}, ${job.frames} frames, needles at depths ${job.depths.join(', ')}`);
    const record = await runStream(vlm, job, run, log);
    results.streams.push(record);
    lastTook.set(job.frames, record.wallSeconds);
    save();
    for (const m of record.methods) log(`  ${methodLine(m)}`);
    log(`  stream took ${record.wallSeconds.toFixed(1)} s`);
  }
  results.status = results.streams.length === jobs.length ? 'done' : 'max-seconds';
  if (skipped) log(`${skipped} streams skipped: their length's last stream took longer than the time left`);
} catch (e) {
  // the streams finished so far are in the file; say where it stopped
  results.status = 'error';
  results.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  log(`error: ${results.error}`);
  exitCode = 1;
}
save();
log(`${results.status}: ${results.streams.length} streams in ${elapsed().toFixed(0)} s → ${out}`);
await vlm.dispose();
gpu.destroy();
process.exit(exitCode);
