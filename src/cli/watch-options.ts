import { loadOptions, LOAD_OPTION_NAMES, type CliLoadOptions } from './load-options';
import type { StreamEngineOptions } from '../engine/types';
import { InputError } from '../errors';
import { checkSetting, CLI_DEFAULTS } from '../settings/index';
import { checkKnownOptions, checkNoPositional, option, type ParsedArgs } from './args';
import { sdkOptionsFrom, type SdkFlag } from './sdk-options';

/** The StreamVLM.load options `watch` takes, as flags. */
const WATCH_SDK_FLAGS: readonly SdkFlag[] = ['fps', 'window', 'kv-bits', 'top-k', 'max-new-tokens', 'frame-resize', 'memory-ram-mb', 'ranking-threads'];

// `streamvlm watch` options, apart from the command so they can be checked without a GPU.

export interface WatchQuestion {
  question: string;
  /** Video time the question is asked at, ms (it sees the frames up to then); null = at the end. */
  atMs: number | null;
}

export interface WatchOptions {
  model: string;
  video: string;
  fps: number;
  engine: StreamEngineOptions;
  maxNewTokens: number;
  questions: WatchQuestion[];
  /** A folder to save the stream's memory in at the end (`streamvlm ask --memory` reads it). */
  saveMemory?: string;
  json: boolean;
  load: CliLoadOptions;
  /** Ranking worker threads (--ranking-threads; platform/node/ranking-workers.ts). */
  rankingThreads: 'auto' | number;
  /** Test hook: destroy the GPU device when the video reaches this time, ms (the stream recovers); null: never. */
  loseDeviceAtMs: number | null;
  /** Test hook (`--lose-device-at load`): destroy the first GPU device while the model loads onto it. */
  loseDeviceDuringLoad: boolean;
}

/** `12.5`, `1:05` (MM:SS) or `1:02:03` (H:MM:SS) → ms; null when it is none of them. */
export function parseVideoTime(text: string): number | null {
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  const m = /^(?:(\d+):)?(\d+):([0-5]\d(?:\.\d+)?)$/.exec(text);
  if (!m) return null;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000;
}

/**
 * `"What is on the table?@12.5"` → the question and 12 500 ms (`@1:05` too); `@end` or no `@` →
 * asked at the end. The text after the last `@`, when it has no space, must be one of these: a
 * typo (`q@1O`) is refused rather than read as part of the question. An `@` that is part of the
 * question (an e-mail address) is kept by ending the question with a time or `@end`.
 */
export function parseQuestion(raw: string): WatchQuestion {
  const at = raw.lastIndexOf('@');
  const suffix = at < 0 ? '' : raw.slice(at + 1).trimEnd();
  const timed = at >= 0 && !/\s/.test(suffix);
  let atMs: number | null = null;
  if (timed && suffix !== 'end') {
    atMs = parseVideoTime(suffix);
    if (atMs === null) {
      throw new InputError(`--ask "${raw}": "@${suffix}" is not a video time (seconds like @12.5, MM:SS like @1:05, or @end); to keep an @ in the question, end it with a time or @end`);
    }
  }
  const question = (timed ? raw.slice(0, at) : raw).trim();
  if (question === '') throw new InputError(`--ask "${raw}": the question is empty`);
  return { question, atMs };
}

export function watchOptions(args: ParsedArgs): WatchOptions {
  checkKnownOptions(args, 'watch', ['model', 'video', 'ask', 'save-memory', 'lose-device-at', 'answer-context', ...WATCH_SDK_FLAGS, ...LOAD_OPTION_NAMES]);
  const model = option(args, 'model');
  if (!model) throw new InputError('watch needs --model <folder|url|owner/name>');
  const videos = args.options.get('video') ?? [];
  if (videos.length !== 1) throw new InputError('watch needs one --video <file.y4m>');
  const questions = (args.options.get('ask') ?? []).map(parseQuestion);
  const saveMemory = option(args, 'save-memory');
  if (questions.length === 0 && !saveMemory) throw new InputError('watch needs at least one --ask "<question>[@<seconds>]" (or --save-memory DIR)');
  const sdk = sdkOptionsFrom(args, WATCH_SDK_FLAGS);
  const engine: StreamEngineOptions = {};
  if (sdk.windowFrames !== undefined) engine.windowFrames = sdk.windowFrames;
  if (sdk.topK !== undefined) engine.topK = sdk.topK;
  if (sdk.kvBits !== undefined) engine.kvBits = sdk.kvBits;
  if (sdk.frameResize !== undefined) engine.frameResize = sdk.frameResize;
  // MiB of stored frames' K/V kept in RAM; the rest goes to a temp folder (default: all in RAM)
  if (sdk.memoryRamMB !== undefined) engine.ramBudgetBytes = sdk.memoryRamMB * 2 ** 20;
  const context = option(args, 'answer-context');
  if (context !== undefined) {
    checkSetting('answerContext', context, '--answer-context');
    engine.answerContext = context as 'reprefill' | 'restore';
  }
  const maxNewTokens = sdk.maxAnswerTokens ?? CLI_DEFAULTS.maxAnswerTokens;
  engine.maxAnswerTokens = maxNewTokens;
  const { atMs: loseDeviceAtMs, duringLoad: loseDeviceDuringLoad } = loseDeviceOption(option(args, 'lose-device-at'));
  checkNoPositional(args);
  return { model, video: videos[0], fps: sdk.fps ?? CLI_DEFAULTS.fps, engine, maxNewTokens, questions, saveMemory, json: args.flags.has('json'), load: loadOptions(args), rankingThreads: sdk.rankingThreads ?? 'auto', loseDeviceAtMs, loseDeviceDuringLoad };
}

/** `--lose-device-at`: `load`, a video time S, or both (`load,S`: one run sees both recoveries). */
function loseDeviceOption(raw: string | undefined): { atMs: number | null; duringLoad: boolean } {
  if (raw === undefined) return { atMs: null, duringLoad: false };
  const parts = raw.split(',').map((p) => p.trim());
  const duringLoad = parts.includes('load');
  const times = parts.filter((p) => p !== 'load');
  const seconds = times.map(Number);
  if (times.length > 1 || parts.filter((p) => p === 'load').length > 1 || times.some((t, i) => t === '' || !Number.isFinite(seconds[i]) || seconds[i] < 0)) {
    throw new InputError(`--lose-device-at must be load, a video time in seconds ≥ 0, or load,S; not ${raw}`);
  }
  return { atMs: times.length ? seconds[0] * 1000 : null, duringLoad };
}
