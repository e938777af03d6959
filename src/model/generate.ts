import { parseJson } from './json-file';
import { InputError } from '../errors';
import { CommandRecorder } from '../gpu/recorder';
import { StepPlan } from '../gpu/step-plan';
import { Tensor } from '../gpu/tensor';
import { argmax, sampleTopP } from '../kernels/sampling';
import type { KvCache } from '../memory/kv-cache';
import { TokenReadback } from './token-readback';
import type { TextModel } from './text-model';

export interface GenerateOptions {
  /** Stop after this many new tokens. */
  maxNewTokens: number;
  /** Stop after emitting any of these (the eos token is included in the result, as transformers does). */
  eosTokenIds: readonly number[];
  /** Called with each new token as soon as it is read back; `last`: generation stops after it (an eos, or maxNewTokens reached). */
  onToken?: (id: number, last: boolean) => void;
  /** Sample instead of taking the most likely token (default: greedy, do_sample=False). */
  sampling?: SamplingSettings;
  /**
   * Record decode steps from a step plan once it holds (gpu/step-plan.ts; default true): the same
   * commands with a fraction of the host's work a token. False records every step by its code (the
   * benchmarks' and tests' comparison); a StepPlan is used as given (its counts say how many steps
   * it recorded).
   */
  stepPlan?: boolean | StepPlan;
}

/** transformers' do_sample=True knobs: temperature, then top-k, then top-p (nucleus). */
export interface SamplingSettings {
  /** > 0. */
  temperature: number;
  /** Keep the smallest set of tokens whose probability reaches top_p (default 1: all). */
  topP?: number;
  /** Keep the k most likely tokens first (default 0: all). */
  topK?: number;
  /** Seed of the uniform draws, so a sampled answer can be reproduced (default: random). */
  seed?: number;
}

/** mulberry32: a small seeded generator of uniform draws in [0, 1). */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The eos ids transformers' generate() stops on: `generation_config.json`'s `eos_token_id`
 * (a number or a list), plus any extra ids given (config / tokenizer eos), deduplicated.
 */
export function eosTokenIds(generationConfigJson: string | null, ...extra: (number | undefined | null)[]): number[] {
  const ids = new Set<number>();
  if (generationConfigJson) {
    const eos = (parseJson('generation_config.json', generationConfigJson) as { eos_token_id?: unknown } | null)?.eos_token_id;
    for (const id of Array.isArray(eos) ? eos : [eos]) if (typeof id === 'number') ids.add(id);
  }
  for (const id of extra) if (typeof id === 'number') ids.add(id);
  return [...ids];
}

/** u32 [count] positions start … start+count−1 (plain 1-D positions, spec §6.5). */
export function positionTensor(model: TextModel, start: number, count: number): Tensor {
  return Tensor.from(model.gpu, Array.from({ length: count }, (_, i) => start + i), [count], 'u32', 'positions');
}

/**
 * Decode steps queued on the GPU ahead of the token the CPU is reading. Enough to hide a browser
 * worker's readback latency behind ~2 ms steps; at most this many steps are wasted after an eos.
 */
const STEPS_IN_FLIGHT = 4;

/**
 * Greedy decoding (do_sample=False): prefills `embeddings` [T, hidden] into `cache` (appended after
 * whatever it holds), then decodes one token per step. Each step is one recorder and one submit;
 * the chosen id stays on the GPU for the next step's embedding gather, so steps are queued up to
 * STEPS_IN_FLIGHT ahead while earlier ids (4 bytes each) come back for the stop check and the
 * result. Steps queued past an eos are dropped from the cache again, leaving it as a one-at-a-time
 * loop would: the prompt and every new token but the last. Returns the new token ids.
 */
export async function generateGreedy(model: TextModel, cache: KvCache, embeddings: Tensor, options: GenerateOptions): Promise<number[]> {
  const { maxNewTokens, eosTokenIds: eos, onToken, sampling } = options;
  const plan = options.stepPlan === false ? null : options.stepPlan instanceof StepPlan ? options.stepPlan : new StepPlan();
  const uniform = sampling ? seededUniform(sampling.seed ?? Math.floor(Math.random() * 2 ** 32)) : null;
  // the token choice: argmax, or a draw from the tempered, top-k/top-p filtered distribution
  // a sampled step reads its draw from `draw`, written before each submit, so its commands are
  // the same every token (a step plan can record them)
  const choose = (rec: CommandRecorder, logits: Tensor) =>
    sampling && draw ? sampleTopP(rec, logits, tokenId, { temperature: sampling.temperature, topP: sampling.topP, topK: sampling.topK, u: draw }) : argmax(rec, logits, tokenId);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 0) throw new InputError(`generate: maxNewTokens must be a non-negative integer, got ${maxNewTokens}`);
  const generated: number[] = [];
  if (maxNewTokens === 0) return generated;
  const gpu = model.gpu;
  const tokens = embeddings.size / model.config.hiddenSize;
  const promptEnd = cache.length + tokens;
  // stop before the cache would overflow: a decode step needs one more row
  cache.reserve(tokens + maxNewTokens - 1);
  const tokenId = Tensor.empty(gpu, [1], 'u32', 'next token');
  const draw = uniform ? Tensor.empty(gpu, [1], 'f32', 'sampling draw') : null;
  const stepEmbedding = model.createEmbeddings(1);
  const stepPosition = Tensor.empty(gpu, [1], 'u32', 'decode position');
  const prefillPositions = positionTensor(model, cache.length, tokens);
  const readback = new TokenReadback(gpu);
  // ids of submitted steps, oldest first
  const inFlight: Promise<number>[] = [];
  const submit = (rec: CommandRecorder) => {
    // the draw as an f32, as the uniform block took it before
    if (uniform && draw) draw.write([uniform()]);
    const staging = readback.record(rec, tokenId);
    rec.submit();
    inFlight.push(readback.read(staging));
  };
  try {
    const rec = new CommandRecorder(gpu, undefined, 'prefill');
    recordOrDiscard(rec, () => choose(rec, model.forward(rec, cache, embeddings, prefillPositions, 'last')));
    submit(rec);
    let steps = 1;
    for (;;) {
      while (inFlight.length < STEPS_IN_FLIGHT && steps < maxNewTokens) {
        // a queue write is ordered with the submits around it: this step sees its own position
        stepPosition.write([cache.length]);
        const step = new CommandRecorder(gpu, undefined, 'decode');
        recordOrDiscard(step, () =>
          model.decodeStep(step, cache, plan, () => {
            model.embed(step, tokenId, stepEmbedding);
            choose(step, model.forward(step, cache, stepEmbedding, stepPosition, 'last'));
          }),
        );
        submit(step);
        steps++;
      }
      const id = await inFlight.shift()!;
      generated.push(id);
      const last = eos.includes(id) || generated.length >= maxNewTokens;
      onToken?.(id, last);
      if (last) break;
    }
  } finally {
    // steps still queued must finish before their buffers go
    await Promise.allSettled(inFlight);
    readback.destroy();
    for (const t of [tokenId, stepEmbedding, stepPosition, prefillPositions]) t.destroy();
    draw?.destroy();
  }
  cache.truncate(promptEnd + generated.length - 1);
  return generated;
}

/** Runs `record` into `rec`; if it throws, `rec` is discarded (its uniform arena goes back to the pool) and the error goes on. */
function recordOrDiscard(rec: CommandRecorder, record: () => void): void {
  try {
    record();
  } catch (e) {
    rec.discard();
    throw e;
  }
}
