import { InputError } from '../errors';
import { CLI_DEFAULTS } from '../settings/index';
import type { RgbImage } from '../model/preprocess';
import type { VideoInput } from '../families/family';
import { loadModel } from '../families/registry';
import { IncrementalDecoder } from '../model/incremental-decoder';
import { checkKnownOptions, checkNoPositional, option, type ParsedArgs } from './args';
import { sdkOptionsFrom } from './sdk-options';
import { loadOptions, LOAD_OPTION_NAMES, modelLoadOptions, type CliLoadOptions } from './load-options';
import { FsSource } from '../platform/node/fs-source';
import { modelSourceOf } from './model-source';
import { readImageFile } from './images';
import { ProgressBar } from './progress-bar';
import { announceAdapter, jsonLine, terminalSafe } from './terminal-text';
import { acquireNodeGpu } from '../platform/node/node-gpu';
import { readY4m, sampleY4m, type Y4mVideo } from './y4m';

export interface GenerateOptions {
  model: string;
  images: string[];
  video?: string;
  prompt: string;
  maxNewTokens: number;
  json: boolean;
  load: CliLoadOptions;
}

export function generateOptions(args: ParsedArgs): GenerateOptions {
  checkKnownOptions(args, 'generate', ['model', 'image', 'video', 'prompt', 'max-new-tokens', ...LOAD_OPTION_NAMES]);
  const model = option(args, 'model');
  if (!model) throw new InputError('generate needs --model <folder|url|owner/name>');
  const prompt = option(args, 'prompt');
  if (prompt === undefined) throw new InputError('generate needs --prompt <text>');
  const videos = args.options.get('video') ?? [];
  if (videos.length > 1) throw new InputError('generate takes one --video');
  const maxNewTokens = sdkOptionsFrom(args, ['max-new-tokens']).maxAnswerTokens ?? CLI_DEFAULTS.maxAnswerTokens;
  checkNoPositional(args);
  return { model, images: args.options.get('image') ?? [], video: videos[0], prompt, maxNewTokens, json: args.flags.has('json'), load: loadOptions(args) };
}

/**
 * `streamvlm generate`: one user turn (images, then the video, then the prompt) answered greedily.
 * Inputs are read and checked before the GPU and the model are touched, so a bad file fails fast.
 * Plain mode streams the answer as it is decoded; --json prints one line {"tokens","text"} last.
 */
export async function generateCommand(options: GenerateOptions): Promise<number> {
  const images: RgbImage[] = [];
  for (const path of options.images) images.push(await readImageFile(path));
  const y4m: Y4mVideo | undefined = options.video ? await readY4m(options.video) : undefined;

  const gpu = await acquireNodeGpu({ onAdapter: options.json ? undefined : announceAdapter });
  try {
    const bar = ProgressBar.forTerminal(options.json);
    const source = modelSourceOf(options.model);
    const vlm = await loadModel(gpu, source, { ...modelLoadOptions(options.load, gpu), onProgress: bar.loadProgress(!(source instanceof FsSource)) });
    // the first answer compiles the GPU pipelines: seconds on a CPU adapter, so say so
    bar.note('answering (compiling GPU kernels on first use)…');
    let video: VideoInput | undefined;
    if (y4m) {
      // sampled as SmolVLMVideoProcessor does, at the model's fps and max_frames
      const s = sampleY4m(y4m, vlm.videoSampling);
      video = { frames: s.frames, timestampsSec: s.timestampsSec, durationSec: s.durationSec };
    }

    // Streaming: print what each token makes showable (a partial character waits for the next)
    const decoder = new IncrementalDecoder((ids) => vlm.tokenizer.decode(ids, { skipSpecialTokens: true }));
    const onToken = options.json
      ? undefined
      : (id: number) => {
          const added = decoder.push(id);
          if (added === '') return;
          bar.clear();
          process.stdout.write(terminalSafe(added));
        };
    const result = await vlm.generate({ images, video, text: options.prompt, maxNewTokens: options.maxNewTokens, onToken });
    bar.clear();
    if (options.json) {
      console.log(jsonLine({ tokens: result.tokens, text: result.text }));
    } else {
      const printed = decoder.shown;
      process.stdout.write(terminalSafe(result.text.startsWith(printed) ? `${result.text.slice(printed.length)}\n` : `\n${result.text}\n`));
    }
    await vlm.dispose();
    return 0;
  } finally {
    gpu.destroy();
  }
}
