import { nodeRankingWorkers } from '../platform/node/ranking-workers';
import { StreamEngine } from '../engine/stream-engine';
import type { AskEvent, Moment, StreamEngineOptions } from '../engine/types';
import { InputError } from '../errors';
import { codecOf } from '../memory/codecs/registry';
import { checkStoreMeta } from '../memory/compatibility';
import { CLI_DEFAULTS } from '../settings/index';
import { frameTimestamp } from '../model/prompt';
import { loadModel } from '../families/registry';
import { checkKnownOptions, option, type ParsedArgs } from './args';
import { FsSource } from '../platform/node/fs-source';
import { loadOptions, modelLoadOptions, type CliLoadOptions } from './load-options';
import { openMemoryFolder } from '../platform/node/memory-folder';
import { modelSourceOf } from './model-source';
import { acquireNodeGpu } from '../platform/node/node-gpu';
import { ProgressBar } from './progress-bar';
import { sdkOptionsFrom } from './sdk-options';
import { announceAdapter, jsonLine, terminalSafe } from './terminal-text';

export interface AskCommandOptions {
  memory: string;
  model?: string;
  questions: string[];
  maxNewTokens: number;
  topK?: number;
  /** Only the flags given: the rest come from the settings saved with the memory. */
  load: Partial<CliLoadOptions>;
  json: boolean;
  /** Ranking worker threads (--ranking-threads). */
  rankingThreads: 'auto' | number;
}

export function askOptions(args: ParsedArgs): AskCommandOptions {
  checkKnownOptions(args, 'ask', ['memory', 'model', 'max-new-tokens', 'top-k', 'weights', 'precision', 'ranking-threads']);
  const memory = option(args, 'memory');
  if (!memory) throw new InputError('ask needs --memory DIR (a folder written by streamvlm watch --save-memory DIR)');
  const questions = args.positional.map((q) => q.trim());
  if (questions.length === 0 || questions.some((q) => q === '')) throw new InputError('ask needs a question: streamvlm ask --memory DIR "What happened?"');
  const sdk = sdkOptionsFrom(args, ['max-new-tokens', 'top-k', 'ranking-threads']);
  const given = loadOptions(args);
  const load: Partial<CliLoadOptions> = {};
  if (option(args, 'weights') !== undefined) load.weightFormat = given.weightFormat;
  if (option(args, 'precision') !== undefined) load.precision = given.precision;
  return { memory, model: option(args, 'model'), questions, maxNewTokens: sdk.maxAnswerTokens ?? CLI_DEFAULTS.maxAnswerTokens, topK: sdk.topK, load, json: args.flags.has('json'), rankingThreads: sdk.rankingThreads ?? 'auto' };
}

const time = (ms: number) => frameTimestamp(ms / 1000);

/**
 * `streamvlm ask --memory DIR "question"…`: answers from a memory `watch --save-memory` saved,
 * without the video: the saved frames go into a fresh engine's store and each question recalls
 * from them as it would have at the end of the stream. Every memory file is read and checked
 * before the GPU is touched.
 */
export async function askCommand(o: AskCommandOptions): Promise<number> {
  const { memory, settings } = await openMemoryFolder(o.memory);
  const model = o.model ?? settings?.model;
  if (!model) throw new InputError(`--memory ${o.memory} does not say which model made it; pass --model`);
  const load: CliLoadOptions = { weightFormat: o.load.weightFormat ?? (settings?.weights as CliLoadOptions['weightFormat']) ?? 'f16', precision: o.load.precision ?? settings?.precision ?? memory.meta.dtype };

  const gpu = await acquireNodeGpu({ onAdapter: o.json ? undefined : announceAdapter });
  try {
    const bar = ProgressBar.forTerminal(o.json);
    const source = modelSourceOf(model);
    const vlm = await loadModel(gpu, source, { ...modelLoadOptions(load, gpu), onProgress: bar.loadProgress(!(source instanceof FsSource)) });
    const engineOptions: StreamEngineOptions = { kvBits: memory.meta.bits, kvCodec: codecOf(memory.meta).id, maxAnswerTokens: o.maxNewTokens };
    if (settings?.windowFrames !== undefined) engineOptions.windowFrames = settings.windowFrames;
    if (settings?.frameResize !== undefined) engineOptions.frameResize = settings.frameResize;
    const topK = o.topK ?? settings?.topK;
    if (topK !== undefined) engineOptions.topK = topK;
    const engine = await StreamEngine.create(vlm, engineOptions, { ranking: nodeRankingWorkers(o.rankingThreads) });
    // the engine takes the memory's K/V encoding, so what can differ is the model or its precision
    checkStoreMeta(memory.meta, engine.meta, () => `--memory ${o.memory} was made by another model or precision (${memory.meta.dtype}) than ${model} here (${engine.meta.dtype}); pass the --model and --precision watch used`);
    await engine.restoreMemory(memory.meta, memory.blocks);
    for (const question of o.questions) {
      bar.clear();
      if (!o.json) process.stdout.write(`${terminalSafe(question)}\n`);
      let moments: Moment[] = [];
      let done: Extract<AskEvent, { type: 'done' }> | null = null;
      for await (const e of engine.ask(question, { maxNewTokens: o.maxNewTokens })) {
        if (e.type === 'moments') moments = e.moments;
        else if (e.type === 'token' && !o.json) process.stdout.write(terminalSafe(e.text));
        else if (e.type === 'done') done = e;
      }
      if (!done) throw new Error(`the answer to "${question}" ended without a done event`);
      const d = done as Extract<AskEvent, { type: 'done' }>;
      const used = moments.map((m) => ({ ...m, time: time(m.timestampMs) }));
      // how the memory was ranked: in how many worker threads, and what it took of the time to the first token
      if (o.json) console.log(jsonLine({ question, tokens: d.tokens, text: d.text, moments: used, ranking: { threads: engine.stats().rankingThreads, ms: d.timing.rankMs, firstTokenMs: d.timing.firstTokenMs } }));
      else process.stdout.write(`\n  moments: ${used.map((m) => m.time).join(' ')}\n`);
    }
    await engine.dispose();
    await vlm.dispose();
    return 0;
  } finally {
    gpu.destroy();
  }
}
