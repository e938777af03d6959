import { loadOptions, LOAD_OPTION_NAMES, type CliLoadOptions } from './load-options';
import type { StreamEngineOptions } from '../engine/types';
import { InputError } from '../errors';
import { KV_STORE_BITS } from '../memory/frame-block';
import { checkKnownOptions, numberOption, option, type ParsedArgs } from './args';

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
  json: boolean;
  load: CliLoadOptions;
  /** Test hook: destroy the GPU device when the video reaches this time, ms (the stream recovers); null: never. */
  loseDeviceAtMs: number | null;
}

/** `"What is on the table?@12.5"` → the question and 12 500 ms; no `@<seconds>` suffix → asked at the end. */
export function parseQuestion(raw: string): WatchQuestion {
  const m = /^([\s\S]*?)@(\d+(?:\.\d+)?)\s*$/.exec(raw);
  const question = (m ? m[1] : raw).trim();
  if (question === '') throw new InputError(`--ask "${raw}": the question is empty`);
  return { question, atMs: m ? Number(m[2]) * 1000 : null };
}

export function watchOptions(args: ParsedArgs): WatchOptions {
  checkKnownOptions(args, 'watch', ['model', 'video', 'fps', 'window', 'kv-bits', 'top-k', 'ask', 'max-new-tokens', 'frame-resize', 'memory-ram-mb', 'lose-device-at', ...LOAD_OPTION_NAMES]);
  const model = option(args, 'model');
  if (!model) throw new InputError('watch needs --model <folder|url>');
  const videos = args.options.get('video') ?? [];
  if (videos.length !== 1) throw new InputError('watch needs one --video <file.y4m>');
  const questions = (args.options.get('ask') ?? []).map(parseQuestion);
  if (questions.length === 0) throw new InputError('watch needs at least one --ask "<question>[@<seconds>]"');
  const fps = numberOption(args, 'fps', { above: 0, integer: false }) ?? 1;
  const engine: StreamEngineOptions = {};
  const window = numberOption(args, 'window', { min: 1 });
  if (window !== undefined) engine.windowFrames = window;
  const topK = numberOption(args, 'top-k', { min: 0 });
  if (topK !== undefined) engine.topK = topK;
  const bits = option(args, 'kv-bits');
  if (bits !== undefined) {
    const kvBits = KV_STORE_BITS.find((b) => String(b) === bits);
    if (kvBits === undefined) throw new InputError(`--kv-bits must be 8, 4, 2 or none, not ${bits}`);
    engine.kvBits = kvBits;
  }
  const resize = option(args, 'frame-resize');
  if (resize !== undefined) {
    if (resize !== 'video' && resize !== 'image') throw new InputError(`--frame-resize must be video or image, not ${resize}`);
    engine.frameResize = resize;
  }
  // MiB of stored frames' K/V kept in RAM; the rest goes to a temp folder (default: all in RAM)
  const ramMb = numberOption(args, 'memory-ram-mb', { min: 0, integer: false });
  if (ramMb !== undefined) engine.ramBudgetBytes = ramMb * 2 ** 20;
  const maxNewTokens = numberOption(args, 'max-new-tokens', { min: 1 }) ?? 64;
  engine.maxAnswerTokens = maxNewTokens;
  const loseAt = numberOption(args, 'lose-device-at', { min: 0, integer: false });
  if (args.positional.length > 0) throw new InputError(`unexpected argument '${args.positional[0]}'`);
  return { model, video: videos[0], fps, engine, maxNewTokens, questions, json: args.flags.has('json'), load: loadOptions(args), loseDeviceAtMs: loseAt === undefined ? null : loseAt * 1000 };
}
