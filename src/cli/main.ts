import { InputError, StreamVlmError } from '../errors';
import { option, parseArgs } from './args';
import { generateCommand, generateOptions } from './generate';
import { needleCommand, needleOptions } from './needle';
import { acquireNodeGpu } from './node-gpu';
import { selfcheckCommand } from './selfcheck';
import { watchCommand } from './watch';
import { watchOptions } from './watch-options';

const USAGE = `usage: streamvlm <command> [options]

commands:
  info                          the WebGPU adapter Dawn finds, its features and limits
  selfcheck [--filter NAME] [--precision f32|f16] [--json]
                                run every kernel against its TypeScript reference on this GPU
  generate --model <folder|url> [--image <png|jpg>]... [--video <file.y4m>] --prompt <text>
           [--max-new-tokens N] [--weights f16|f32|q8|q4] [--precision f32|f16|auto] [--json]
                                answer one question greedily; images come first, then the video
                                (sampled at the model's fps), then the prompt; --json prints
                                {"tokens":[…],"text":"…"} as the last line
  watch --model <folder|url> --video <file.y4m> --ask "<question>[@<seconds>]"...
        [--fps 1] [--window W] [--kv-bits 8|4|2|none] [--top-k K] [--max-new-tokens N]
        [--frame-resize video|image] [--memory-ram-mb M] [--weights f16|f32|q8|q4]
        [--precision f32|f16|auto] [--lose-device-at S] [--json]
                                stream the video through the engine (frames sampled at --fps);
                                --memory-ram-mb keeps M MiB of stored frames' K/V in RAM and the
                                rest in a temp folder (default: all in RAM); a lost GPU device is
                                replaced and the stream goes on (--lose-device-at destroys the
                                device at video time S, to see it);
                                each question is asked at its video time (the frames up to then)
                                or, without @, at the end; answers print with the moments (MM:SS)
                                they used; --json prints one line per answer, last:
                                {"question","askedAtMs","tokens","text","moments":[…]}
  needle --seed S --frames N [--depth D[,D…]] [--needles K] --out <clip.y4m> [--json]
                                write a seeded needle-in-a-stream clip (160×120, 4:2:0, 1 frame/s):
                                rare shapes (needles) among common ones, at depth D (0 = first
                                frame, 1 = last), and <clip.json> beside it with each needle's
                                frame, MM:SS, shape and colour and the questions with their answers
  --weights: weight storage (default f16; f32 is the exact-parity setting). --precision: math
  (default f32; f16 needs shader-f16; auto picks f16 where the adapter has it).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const args = parseArgs(rest, ['json', 'no-f16']);
  switch (command) {
    case 'info': {
      const gpu = await acquireNodeGpu();
      const limits: Record<string, number> = {};
      for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
        limits[key] = (gpu.limits as unknown as Record<string, number>)[key];
      }
      console.log(JSON.stringify({ adapter: gpu.adapter, features: gpu.features, limits }, null, 2));
      gpu.destroy();
      return 0;
    }
    case 'selfcheck': {
      const precision = option(args, 'precision');
      if (precision && precision !== 'f32' && precision !== 'f16') throw new InputError(`--precision must be f32 or f16, not ${precision}`);
      const gpu = await acquireNodeGpu({ disableF16: args.flags.has('no-f16') });
      const code = await selfcheckCommand(gpu, { filter: option(args, 'filter'), precision: precision as 'f32' | 'f16' | undefined, json: args.flags.has('json') });
      gpu.destroy();
      return code;
    }
    case 'generate':
      return generateCommand(generateOptions(args));
    case 'watch':
      return watchCommand(watchOptions(args));
    case 'needle':
      return needleCommand(needleOptions(args));
    default:
      console.error(`streamvlm: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Users get one line, not a stack trace; STREAMVLM_DEBUG=1 shows the stack.
    if (process.env.STREAMVLM_DEBUG) console.error(error);
    const e = error as Error;
    const advice = error instanceof StreamVlmError && error.advice ? ` (${error.advice})` : '';
    console.error(`streamvlm: ${e.name === 'Error' ? '' : `${e.name}: `}${e.message}${advice}`);
    process.exit(1);
  },
);
