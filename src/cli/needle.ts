import { InputError } from '../errors';
import { writeFileChunks, writeTextFile } from '../platform/node/files';
import { planNeedleStream, renderFrame, type NeedleStream } from '../needle/render';
import { checkKnownOptions, numberOption, option, type ParsedArgs } from './args';
import { y4mFrame, y4mHeader } from './y4m-writer';

export interface NeedleCommandOptions {
  seed: number;
  frames: number;
  depths: number[];
  needles?: number;
  out: string;
  json: boolean;
}

export function needleOptions(args: ParsedArgs): NeedleCommandOptions {
  checkKnownOptions(args, 'needle', ['seed', 'frames', 'depth', 'needles', 'out']);
  const seed = numberOption(args, 'seed', { min: 0 });
  if (seed === undefined) throw new InputError('needle needs --seed S');
  const frames = numberOption(args, 'frames', { min: 1 });
  if (frames === undefined) throw new InputError('needle needs --frames N');
  const out = option(args, 'out');
  if (!out) throw new InputError('needle needs --out <clip.y4m>');
  if (!out.endsWith('.y4m')) throw new InputError(`--out must name a .y4m file, not ${out}`);
  const rawDepth = option(args, 'depth');
  const depths = rawDepth === undefined ? [] : rawDepth.split(',').map((d) => {
    const value = Number(d);
    if (d.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) throw new InputError(`--depth must be numbers in 0…1 separated by commas, not ${rawDepth}`);
    return value;
  });
  const needles = numberOption(args, 'needles', { min: 0 });
  if (args.positional.length > 0) throw new InputError(`unexpected argument '${args.positional[0]}'`);
  return { seed, frames, depths, needles, out, json: args.flags.has('json') };
}

/** `clip.y4m` → `clip.json`. */
export const clipJsonPath = (y4mPath: string) => y4mPath.replace(/\.y4m$/, '.json');

/** Writes the stream as .y4m (frame by frame, so long streams stay in bounded memory) and its clip.json. */
export async function writeNeedleClip(stream: NeedleStream, out: string): Promise<void> {
  await writeFileChunks(out, clipChunks(stream));
  await writeTextFile(clipJsonPath(out), JSON.stringify(stream, null, 1) + '\n');
}

/** The clip's .y4m header, then each frame rendered only when it is written. */
function* clipChunks(stream: NeedleStream): Generator<Uint8Array | string> {
  yield y4mHeader(stream.width, stream.height, stream.fps);
  for (let i = 0; i < stream.frames; i++) yield y4mFrame(renderFrame(stream, i), stream.width, stream.height);
}

/** `streamvlm needle`: a seeded needle-in-a-stream clip and its questions. */
export async function needleCommand(o: NeedleCommandOptions): Promise<number> {
  const stream = planNeedleStream({ seed: o.seed, frames: o.frames, depths: o.depths, needles: o.needles });
  await writeNeedleClip(stream, o.out);
  if (o.json) console.log(JSON.stringify(stream));
  else {
    const where = stream.needles.map((n) => `${n.color} ${n.shape} at ${n.time} (frame ${n.frame})`).join(', ') || 'no needle';
    console.log(`wrote ${o.out} (${stream.frames} frames, ${stream.width}×${stream.height}, 1 frame/s) and ${clipJsonPath(o.out)}: ${where}; ${stream.questions.length} questions`);
  }
  return 0;
}
