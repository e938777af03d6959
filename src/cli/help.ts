/**
 * `streamvlm --help` and `streamvlm <command> --help`: one text per command, so a user asking
 * about a command sees only its options.
 */
export const COMMAND_HELP = {
  info: `usage: streamvlm info [--json]

The WebGPU adapter Dawn finds on this machine, its features and limits.`,

  selfcheck: `usage: streamvlm selfcheck [--filter NAME] [--precision f32|f16] [--no-f16] [--json]

Runs every GPU kernel against its TypeScript reference on this machine's adapter.
  --filter NAME        only the checks whose name contains NAME (e.g. matmul)
  --precision f32|f16  one math precision (default: each the adapter has)
  --no-f16             ignore shader-f16 even where the adapter has it
  --json               one JSON report on stdout`,

  generate: `usage: streamvlm generate --model <folder|url|owner/name[@revision]> --prompt <text>
                          [--image <png|jpg>]... [--video <file.y4m>] [options]

Answers one question greedily: the images first, then the video (sampled at the model's fps),
then the prompt. The answer streams to stdout.
  --model M               a model folder, its URL, or a Hugging Face hub id (downloaded once
                          into the hub cache, $HF_HOME/hub, then used offline)
  --max-new-tokens N      longest answer in tokens (default 64)
  --weights f16|f32|q8|q4 weight storage on the GPU (default f16; f32 is exact parity)
  --precision f32|f16|auto  math precision (default f32; auto: f16 where the adapter has it)
  --json                  no progress; prints {"tokens":[…],"text":"…"} as the last line`,

  watch: `usage: streamvlm watch --model <folder|url|owner/name[@revision]> --video <file.y4m>
                       (--ask "<question>[@<time>]"... | --save-memory DIR) [options]

Streams the video through the engine as a live camera would (frames sampled at --fps) and asks
each question at its video time (seconds like @12.5, MM:SS like @1:05, or @end / no @: at the
end); the answer sees only the frames up to then. Answers print with the moments (MM:SS) used.
  --fps F                 frames per second taken from the video, in (0, 60] (default 1)
  --window W              recent frames kept at full precision (default 16)
  --kv-bits 8|4|2|none    how frames beyond the window are stored (default 4)
  --top-k K               frames recalled from memory per question; 0: window only (default 8)
  --max-new-tokens N      longest answer in tokens (default 64)
  --frame-resize video|image  the frames' resize (default video)
  --memory-ram-mb M       MiB of stored frames' K/V kept in RAM, the rest in a temp folder
  --ranking-threads auto|N  worker threads that rank stored frames for a question (default auto:
                          half the cores, at most 8; 0: the main thread; same answers either way)
  --save-memory DIR       save the stream's memory in DIR at the end, for \`streamvlm ask\`
  --answer-context reprefill|restore  how an answer's context is built: the recalled frames and
                          the window encoded afresh in one pass (default), or their K/V restored
                          as they were when each frame arrived (ReKV: no prefill per question)
  --lose-device-at S      destroy the GPU device at video time S, to see the stream recover
                          (a lost device is always replaced; memory and window carry over);
                          \`load\`: while the model loads onto the first device; \`load,S\`: both
  --weights, --precision  as for generate
  --json                  no progress; one JSON line per answer:
                          {"question","askedAtMs","tokens","text","moments":[…],
                          "ranking":{"threads","ms","firstTokenMs"}}`,

  ask: `usage: streamvlm ask --memory DIR [--model <folder|url|owner/name>] "<question>"... [options]

Answers questions from a memory saved by \`streamvlm watch --save-memory DIR\` (the browser's
saved-memory format), without the video, as if asked at the end of the stream. The model, weights,
precision and window default to those watch used.
  --max-new-tokens N      longest answer in tokens (default 64)
  --top-k K               frames recalled per question (default: as watch had it)
  --ranking-threads auto|N  worker threads that rank stored frames (default auto; as for watch)
  --weights, --precision  as for generate
  --json                  one JSON line per answer: {"question","tokens","text","moments":[…],
                          "ranking":{"threads","ms","firstTokenMs"}}`,

  needle: `usage: streamvlm needle --seed S --frames N [--depth D[,D…]] [--needles K] --out <clip.y4m> [--json]

Writes a seeded needle-in-a-stream clip (160×120, 4:2:0, 1 frame/s): rare shapes (needles) among
common ones, at depth D (0 = first frame, 1 = last), and <clip.json> beside it with each needle's
frame, MM:SS, shape and colour and the questions with their answers.`,
} as const;

export type CommandName = keyof typeof COMMAND_HELP;

export const USAGE = `usage: streamvlm <command> [options]     (streamvlm <command> --help for its options)

commands:
  info        the WebGPU adapter Dawn finds, its features and limits
  selfcheck   run every kernel against its TypeScript reference on this GPU
  generate    answer one question about images or a video
  watch       stream a video through the memory and ask questions at their times
  ask         answer questions from a memory saved by watch --save-memory
  needle      write a needle-in-a-stream test clip

--model takes a folder, a URL or a hub id (owner/name[@revision]); hub downloads go to the
Hugging Face cache ($HF_HOME/hub, default ~/.cache/huggingface/hub; HF_HUB_OFFLINE=1: cache only;
HF_ENDPOINT: another hub). Progress shows on a terminal; --json or a pipe keeps it quiet.
  -h, --help      this help          --version    the version`;
