// Is a wrong answer the engine's or the model's? Replays the memory engine's answer contexts from
// needle-bench results — the frames it retrieved (memoryFrames) and the window it had — as ONE
// prompt, encoded in one pass (the layout the model was trained on, and the one the token-exact
// parity with transformers covers), and prints that answer beside the engine's. Where both are
// wrong in the same way, the engine gave the model exactly the context it meant to, and the model
// cannot answer from it.
//
//   node dist-node/needle-replay.js results.json [more.json …] [--method kv-4] [--lengths 3600]
//     [--weights f16|f32] [--limit 8] [--all]     (--all: correct answers too, not only wrong ones)
//     [--shift-seconds S]   (every frame's timestamp S seconds later, the expected time too: does
//                            an answer depend on which digits the timestamps have?)
//     [--random-distractors SEED]  (the retrieved frames that are not needles replaced by frames
//                            drawn at random from the rest of the stream, in time order: does an
//                            answer fail because of WHICH frames retrieval put beside the needle?)
import { readFileSync } from 'node:fs';
import { checkKnownOptions, option, parseArgs } from '../src/cli/args';
import { modelSourceOf } from '../src/cli/model-source';
import { modelLoadOptions } from '../src/cli/load-options';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { frameTimestamp } from '../src/model/prompt';
import { hash32, Rng } from '../src/needle/random';
import { planNeedleStream } from '../src/needle/render';
import { frameMs, needleFrame } from './needle-frames';
import type { NeedleResults } from './needle-results';
import { answerOnePrompt } from './needle-uniform';

const args = parseArgs(process.argv.slice(2), ['all']);
checkKnownOptions(args, 'needle-replay', ['method', 'lengths', 'weights', 'limit', 'model', 'shift-seconds', 'random-distractors']);
const method = option(args, 'method') ?? 'kv-4';
const lengths = new Set((option(args, 'lengths') ?? '3600').split(',').map(Number));
const weightFormat = (option(args, 'weights') ?? 'f16') as 'f16' | 'f32';
const limit = Number(option(args, 'limit') ?? '8');
const shiftMs = Number(option(args, 'shift-seconds') ?? '0') * 1000;
if (!Number.isInteger(shiftMs / 1000) || shiftMs < 0) {
  console.error('--shift-seconds takes a whole number of seconds ≥ 0');
  process.exit(2);
}
const distractorSeed = option(args, 'random-distractors');
const files = args.positional;
if (files.length === 0) {
  console.error('usage: node dist-node/needle-replay.js results.json [more.json …] [--method kv-4] [--lengths 3600] [--weights f16|f32] [--limit 8] [--all]');
  process.exit(2);
}

const gpu = await acquireNodeGpu();
const vlm = await SmolVlm.load(gpu, modelSourceOf(option(args, 'model') ?? 'tools/fixtures/needle-vlm'), modelLoadOptions({ weightFormat, precision: 'f32' }, gpu));
let replayed = 0;
let same = 0;
let right = 0;
for (const file of files) {
  const results = JSON.parse(readFileSync(file, 'utf8')) as NeedleResults;
  const windowFrames = results.settings.windowFrames;
  for (const s of results.streams) {
    if (!lengths.has(s.frames)) continue;
    const stream = planNeedleStream({ seed: s.seed, frames: s.frames, depths: s.depths, needles: s.depths.length });
    const window = Array.from({ length: Math.min(windowFrames, s.frames) }, (_, i) => s.frames - Math.min(windowFrames, s.frames) + i);
    for (const m of s.methods) {
      if (m.method !== method) continue;
      for (const q of m.questions) {
        if ((q.correct && !args.flags.has('all')) || !q.memoryFrames || replayed >= limit) continue;
        replayed++;
        const memory = distractorSeed === undefined ? q.memoryFrames : randomDistractors(q.memoryFrames, stream.needles.map((n) => n.frame), window, s.frames, new Rng(hash32(Number(distractorSeed), s.seed, replayed)));
        const frames = [...memory, ...window];
        const a = await answerOnePrompt(vlm, frames.map((i) => needleFrame(stream, i)), frames.map((i) => frameMs(i) + shiftMs), q.question, results.settings.maxAnswerTokens);
        if (a.text.trim() === q.answer.trim()) same++;
        const expected = q.family === 'time' && shiftMs > 0 ? frameTimestamp((frameMs(q.needleFrame!) + shiftMs) / 1000) : q.expected;
        if (a.text.trim() === expected) right++;
        const shifted = shiftMs > 0 ? ` (timestamps +${shiftMs / 1000} s: expected ${expected})` : '';
        console.log(`seed ${s.seed} (${s.frames} frames) "${q.question}" expected ${q.expected}: engine ${q.answer.trim()}, one pass ${a.text.trim()}${shifted}; from memory ${memory.join(',')}`);
      }
    }
  }
}
console.log(`${replayed} answers replayed${distractorSeed !== undefined ? ' (non-needle memory frames drawn at random)' : ''} in one pass (${weightFormat} weights, f32 math${shiftMs ? `, timestamps +${shiftMs / 1000} s` : ''}): ${same} the same as the engine's, ${right} right`);
await vlm.dispose();
gpu.destroy();

/** The memory frames with every non-needle one replaced by a frame drawn (seeded) from the rest of
 * the stream outside the window, none twice, in time order. */
function randomDistractors(memory: number[], needles: number[], window: number[], frames: number, rng: Rng): number[] {
  const taken = new Set<number>([...needles, ...window]);
  const out = memory.filter((f) => needles.includes(f));
  for (const f of out) taken.add(f);
  while (out.length < memory.length) {
    const f = rng.int(frames);
    if (taken.has(f)) continue;
    taken.add(f);
    out.push(f);
  }
  return out.sort((a, b) => a - b);
}
