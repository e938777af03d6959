// Browser entry of the soak (bench/soak.ts drives it in headless Chromium): the public SDK
// (StreamVLM, its engine in a worker) on a model folder served beside the page, fed a needle
// stream rendered here as fast as the SDK takes the frames, with a question every K frames.
// The driver polls progress() every few seconds for its samples.
//
//   soak-page.html?model=/model/&frames=20000&askEvery=500&seed=7000&precision=auto&memoryRamMB=1024
import { StreamVLM, type StreamVLMStats } from '../src/index';
import { colorQuestion, MAX_NEEDLE_FRAMES, planNeedleStream, presenceQuestion, renderFrame, type Needle, type NeedleStream } from '../src/needle/render';

/** One question's figures. */
export interface SoakAnswer {
  /** Frames pushed when it was asked. */
  atFrame: number;
  question: string;
  expected: string;
  answer: string;
  correct: boolean;
  /** The same shape appeared earlier in another colour (a later segment of the stream): the answer is not checkable. */
  ambiguous: boolean;
  /** The engine's time to first token (AskTiming.firstTokenMs) and the page's, from the call. */
  firstTokenMs: number;
  pageFirstTokenMs: number;
  totalMs: number;
  /** Of the engine's time to first token: the question's query capture, the ranking, the restore (AskTiming). */
  queryMs: number;
  rankMs: number;
  restoreMs: number;
}

export interface SoakProgress {
  framesPushed: number;
  /** Questions started so far (one is in flight when this exceeds the answers). */
  asked: number;
  /** Offers the sampler did not take (they would be lost frames). */
  notTaken: number;
  done: boolean;
  answers: SoakAnswer[];
  errors: string[];
  stats: StreamVLMStats | null;
  wallSeconds: number;
}

export interface SoakInfo {
  adapter: string;
  precision: string;
  windowFrames: number;
  userAgent: string;
}

declare global {
  interface Window {
    soak?: { ready: SoakInfo; progress: (answersFrom: number) => Promise<SoakProgress> } | { error: string };
  }
}

const params = new URLSearchParams(location.search);
const num = (name: string, fallback: number) => (params.has(name) ? Number(params.get(name)) : fallback);
const totalFrames = num('frames', 20_000);
const askEvery = num('askEvery', 500);
const firstSeed = num('seed', 7000);
// segments of one needle stream each (the renderer draws at most MAX_NEEDLE_FRAMES a stream), seeds firstSeed, firstSeed + 1, …
const SEGMENT = Math.min(5000, MAX_NEEDLE_FRAMES);
const segments = new Map<number, NeedleStream>();
const segment = (s: number) => {
  let stream = segments.get(s);
  if (!stream) {
    stream = planNeedleStream({ seed: firstSeed + s, frames: SEGMENT, depths: [0.1, 0.5, 0.9] });
    segments.set(s, stream);
  }
  return stream;
};
const log = (line: string) => console.log(line);

const answers: SoakAnswer[] = [];
const errors: string[] = [];
let framesPushed = 0;
let asked = 0;
let notTaken = 0;
let done = false;
const t0 = performance.now();
const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** The latest needle shown so far (its question and whether its shape came earlier in another colour), or a presence question before any. */
function nextQuestion(): { question: string; expected: string; ambiguous: boolean } {
  const seen: Needle[] = [];
  for (let s = 0; s * SEGMENT < framesPushed; s++) for (const n of segment(s).needles) if (s * SEGMENT + n.frame < framesPushed) seen.push(n);
  const last = seen[seen.length - 1];
  // before the first needle: a rare shape not seen yet
  if (!last) return { question: presenceQuestion(segment(0).needles[0].shape), expected: 'no', ambiguous: false };
  return { question: colorQuestion(last.shape), expected: last.color, ambiguous: seen.some((n) => n !== last && n.shape === last.shape && n.color !== last.color) };
}

async function ask(vlm: StreamVLM): Promise<void> {
  const q = nextQuestion();
  asked++;
  const start = performance.now();
  let pageFirstTokenMs = 0;
  try {
    for await (const ev of vlm.ask(q.question)) {
      if (ev.type === 'token') pageFirstTokenMs ||= performance.now() - start;
      if (ev.type === 'done') {
        const answer = ev.text.trim();
        answers.push({ atFrame: framesPushed, ...q, answer, correct: answer === q.expected, firstTokenMs: ev.timing.firstTokenMs, pageFirstTokenMs, totalMs: performance.now() - start, queryMs: ev.timing.queryMs, rankMs: ev.timing.rankMs, restoreMs: ev.timing.restoreMs });
        log(`@${framesPushed}: ${q.question} → ${answer} (${q.expected}), first token ${ev.timing.firstTokenMs.toFixed(0)} ms (ranking ${ev.timing.rankMs.toFixed(0)} ms, query ${ev.timing.queryMs.toFixed(0)}, restore ${ev.timing.restoreMs.toFixed(0)})`);
      }
    }
  } catch (e) {
    errors.push(`ask at frame ${framesPushed}: ${message(e)}`);
  }
}

async function feed(vlm: StreamVLM, capacity: number): Promise<void> {
  for (let i = 0; i < totalFrames; i++) {
    const stream = segment(Math.floor(i / SEGMENT));
    const rgb = renderFrame(stream, i % SEGMENT);
    try {
      const offer = await vlm.pushFrame({ width: stream.width, height: stream.height, data: rgb }, i * 1000);
      if (!offer.accepted) notTaken++;
      // as fast as the SDK takes frames, never faster: its queue drops the oldest frame when full
      else if (offer.queueDepth >= capacity - 1) await vlm.idle();
    } catch (e) {
      errors.push(`frame ${i}: ${message(e)}`);
    }
    framesPushed = i + 1;
    if (askEvery > 0 && framesPushed % askEvery === 0) {
      await vlm.idle();
      await ask(vlm);
    }
  }
  await vlm.idle();
}

try {
  const capacity = 4;
  const vlm = await StreamVLM.load(params.get('model') ?? '/model/', {
    precision: (params.get('precision') ?? 'auto') as 'auto' | 'f16' | 'f32',
    maxAnswerTokens: 8,
    queueCapacity: capacity,
    memoryRamMB: num('memoryRamMB', 1024),
    rankingThreads: params.get('rankingThreads') === null || params.get('rankingThreads') === 'auto' ? 'auto' : Number(params.get('rankingThreads')),
    // the model stays out of Cache Storage: the soak measures the stream, not the cache
    cache: false,
    persistStorage: false,
  });
  vlm.addEventListener('devicelost', (e) => errors.push(`device lost: ${JSON.stringify(e.detail)}`));
  vlm.addEventListener('recoveryfailed', (e) => errors.push(`recovery failed: ${JSON.stringify(e.detail)}`));
  const a = vlm.info.adapter;
  let last: StreamVLMStats | null = null;
  window.soak = {
    ready: { adapter: `${a.vendor} ${a.architecture} ${a.description}`.trim(), precision: vlm.info.precision, windowFrames: vlm.info.engine.windowFrames, userAgent: navigator.userAgent },
    progress: async (answersFrom) => {
      try {
        // the engine answers stats between frames: it does not wait for the stream
        last = await vlm.stats();
      } catch (e) {
        errors.push(`stats: ${message(e)}`);
      }
      return { framesPushed, asked, notTaken, done, answers: answers.slice(answersFrom), errors: [...errors], stats: last, wallSeconds: (performance.now() - t0) / 1000 };
    },
  };
  void feed(vlm, capacity)
    .catch((e: unknown) => errors.push(`feed: ${message(e)}`))
    .finally(() => {
      done = true;
    });
} catch (e) {
  window.soak = { error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) };
}
