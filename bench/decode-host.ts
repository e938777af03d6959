// The host's side of a decode step, by the code and from a step plan (gpu/step-plan.ts), in
// alternating blocks of one run: what bench/model-host.ts (Node, Dawn) and bench/browser-page.ts
// (?decodeHost, a browser's WebGPU) report. Per step: "record" = new recorder + embed + forward +
// argmax, or the plan's replay (JS and the WebGPU calls they make); "submit" = recorder.submit()
// (uniform upload + encoder finish + queue submit), whose GPU work is awaited but not counted.
// recordOnly: steps are recorded and discarded, never submitted (the cache still advances a row a
// step): the recording alone, with no GPU work in the way (on a CPU adapter the GPU's work shares
// the CPU with the recording and takes seconds a step at 256M sizes).
import type { GpuDevice } from '../src/gpu/device';
import { CommandRecorder } from '../src/gpu/recorder';
import { StepPlan } from '../src/gpu/step-plan';
import { Tensor } from '../src/gpu/tensor';
import { argmax, readTokenId } from '../src/kernels/sampling';
import type { TextModel } from '../src/model/text-model';

export interface DecodeHostFigures {
  dispatchesPerToken: number;
  recordMsMedian: number;
  /** Includes GC pauses and, from the plan, the three steps of each key split it traces by the code. */
  recordMsMean: number;
  submitMsMedian: number;
  hostMsPerToken: number;
}

export interface DecodeHostResult {
  context: number;
  steps: number;
  recordOnly: boolean;
  /** Whether a full GC ran before each block (the runtime exposed gc). */
  gcBetweenBlocks: boolean;
  byCode: DecodeHostFigures;
  fromPlan: DecodeHostFigures;
  planStepsReplayed: number;
}

/** Long blocks: the plan traces the first three steps of every key split (every 32 keys at head dim 64) and of every block after the code's. */
const BLOCK = 64;

export async function decodeHost(gpu: GpuDevice, text: TextModel, options: { context: number; steps: number; recordOnly: boolean; log: (line: string) => void }): Promise<DecodeHostResult> {
  const { context, steps, recordOnly, log } = options;
  const cache = text.createCache(context + steps + 16);
  const tokenId = Tensor.from(gpu, [5], [1], 'u32', 'next token');
  const stepEmbedding = text.createEmbeddings(1);
  const stepPosition = Tensor.empty(gpu, [1], 'u32', 'decode position');
  const now = () => performance.now();
  let dispatches = 0;
  const step = async (plan: StepPlan | null): Promise<{ record: number; submit: number }> => {
    stepPosition.write([cache.length]);
    const t0 = now();
    const rec = new CommandRecorder(gpu, undefined, 'decode');
    text.decodeStep(rec, cache, plan, () => {
      text.embed(rec, tokenId, stepEmbedding);
      argmax(rec, text.forward(rec, cache, stepEmbedding, stepPosition, 'last'), tokenId);
    });
    const t1 = now();
    dispatches = rec.dispatches;
    if (recordOnly) {
      rec.discard();
      return { record: t1 - t0, submit: 0 };
    }
    rec.submit();
    const t2 = now();
    await readTokenId(tokenId);
    return { record: t1 - t0, submit: t2 - t1 };
  };
  try {
    cache.truncate(context);
    for (let i = 0; i < 8; i++) await step(null); // compile pipelines, fill caches
    cache.truncate(context);
    await gpu.workDone();
    // one plan for the run, as generateGreedy has one an answer: its first three steps are traced
    const plan = new StepPlan();
    for (let i = 0; i < 3; i++) await step(plan);
    const times = { code: { record: [] as number[], submit: [] as number[] }, plan: { record: [] as number[], submit: [] as number[] } };
    const dispatchCount = { code: 0, plan: 0 };
    // where the runtime lets us (node --expose-gc, Chromium --js-flags=--expose-gc), a full GC
    // before each block, so a block's timings carry the collections of its own garbage, not the other way's
    const gc = (globalThis as { gc?: () => void }).gc;
    for (let i = 0; i < steps; i++) {
      if (i % BLOCK === 0) gc?.();
      const way = Math.floor(i / BLOCK) % 2 === 0 ? 'code' : 'plan';
      const s = await step(way === 'plan' ? plan : null);
      times[way].record.push(s.record);
      times[way].submit.push(s.submit);
      dispatchCount[way] = dispatches;
    }
    if (plan.replayed === 0) throw new Error('the step plan never recorded a step: its traces did not agree');
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const figures = (way: 'code' | 'plan'): DecodeHostFigures => ({
      dispatchesPerToken: dispatchCount[way],
      recordMsMedian: median(times[way].record),
      recordMsMean: times[way].record.reduce((a, b) => a + b, 0) / times[way].record.length,
      submitMsMedian: median(times[way].submit),
      hostMsPerToken: median(times[way].record) + median(times[way].submit),
    });
    const result = { context, steps, recordOnly, gcBetweenBlocks: gc !== undefined, byCode: figures('code'), fromPlan: figures('plan'), planStepsReplayed: plan.replayed };
    for (const way of ['code', 'plan'] as const) {
      const f = figures(way);
      log(`${way === 'code' ? 'by the code' : 'from the plan'}: ${f.dispatchesPerToken} dispatches/token; host per token: record ${f.recordMsMedian.toFixed(3)} ms (mean ${f.recordMsMean.toFixed(3)}) + submit ${f.submitMsMedian.toFixed(3)} ms (median of ${times[way].record.length})`);
    }
    return result;
  } finally {
    await gpu.workDone();
    for (const t of [tokenId, stepEmbedding, stepPosition]) t.destroy();
    cache.destroy();
  }
}
