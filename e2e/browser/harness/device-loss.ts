// The page Playwright drives for device loss (issue #14): StreamVLM on the trained needle model
// (tools/fixtures/needle-vlm/) watches a needle clip; the engine's GPUDevice is then really destroyed
// (StreamVLM.loseDeviceForTesting → GPUDevice.destroy(), which Chromium reports as a lost device)
// mid-answer and mid-stream, and the answers about the needle, which has left the GPU window and
// lives in the memory store, are compared token for token with the answers before the loss.
import { StreamVLM, StreamVlmError, type AskEvent, type Moment, type StreamVLMStats } from '../../../src/index';
import type { DeviceEvent } from '../../../src/engine/recovery';
import { deleteMemory, openMemory } from '../../../src/platform/browser/saved-memories';
import { colorQuestion, planNeedleStream, renderFrame, type NeedleStream } from '../../../src/needle/render';

const MODEL = '/tools/fixtures/needle-vlm/';

export interface Answer {
  tokens: number[];
  text: string;
  moments: Moment[];
}

export interface Failure {
  name: string;
  code?: string;
  message: string;
  typed: boolean;
}

/**
 * The clip and the stream every scenario watches: as small as still makes the point (the needle
 * leaves the window for the memory store; a question reads window + top-k frames), since on a CPU
 * adapter each frame of a question's context and of the clip costs most of a second.
 */
const SETUP = { frames: 12, windowFrames: 4, topK: 2, lossAtIngested: 7 } as const;
export type Setup = typeof SETUP;

export interface LossResult {
  setup: Setup;
  /** The activation precision the SDK chose (precision 'auto': f16 where the adapter has shader-f16). */
  precision: 'f16' | 'f32';
  needle: { frame: number; color: string; question: string };
  before: Answer;
  /** The answer that was streaming when the device was destroyed. */
  midAnswer: Answer | Failure;
  events: string[];
  /** The events when the question after the loss was asked (during the recovery), its stats and timeline then. */
  eventsAtAsk: string[];
  statsDuringRecovery: StreamVLMStats;
  timelineDuringRecovery: number[];
  afterAnswer: Answer;
  statsAfterAnswerLoss: StreamVLMStats;
  saved: { blocks: number } | Failure;
  /**
   * A second stream whose device is destroyed while it ingests; asked at once (the ask waits for the
   * recovery). With `lossesInLoads`, its first load's device and the recovery's first reload's device
   * are destroyed too: `loadEvents` are the load's own events (StreamVLMOptions.onDeviceEvent).
   */
  midStream: { lostAtIngested: number; loadEvents: string[]; events: string[]; answer: Answer; stats: StreamVLMStats; timeline: number[] };
  timelineBefore: number[];
}

export interface NoBackupResult {
  setup: Setup;
  precision: 'f16' | 'f32';
  needleFrame: number;
  /** The stream's device events: the loss, the recovery's first new device lost in turn as the weights upload, the recovery. */
  events: string[];
  before: Answer;
  after: Answer;
  stats: StreamVLMStats;
  timeline: number[];
  /** After one more frame. */
  ingestedAfter: number;
}

/** Step by step, for the spec to cut the network between steps. */
interface Steps {
  /** Loads (with or without the download cache) and streams 10 frames of the needle clip. */
  load: (cache: boolean) => Promise<void>;
  /** Destroys the device and waits for 'recovered' or 'recoveryfailed'; returns every device event's detail. */
  lose: () => Promise<{ type: string; [k: string]: unknown }[]>;
  ask: () => Promise<Answer | Failure>;
  save: () => Promise<{ blocks: number } | Failure>;
  /**
   * Saves (10 frames), streams 2 more, then saves again while the device is destroyed: that save
   * either finishes (its GPU part runs again after the recovery) or fails typed; either way the
   * memory reopens whole, as the previous save or the new one.
   */
  saveAcrossLoss: () => Promise<{ first: number; second: { blocks: number } | Failure; reopened: number }>;
  stats: () => Promise<StreamVLMStats>;
  dispose: () => Promise<void>;
}

/** A load whose device is destroyed at every try (the first and each retry after a loss). */
export interface LostEveryTryResult {
  /** How load() ended: a typed DeviceLostError expected. */
  outcome: Failure | 'loaded';
  /** The load's device events (onDeviceEvent). */
  events: string[];
  ms: number;
}

declare global {
  interface Window {
    deviceLoss: {
      run: (kvBits: 4 | 'none', lossesInLoads?: boolean) => Promise<LossResult>;
      withoutBackup: () => Promise<NoBackupResult>;
      lostEveryTry: () => Promise<LostEveryTryResult>;
      steps: Steps;
    };
  }
}

function failure(e: unknown): Failure {
  const err = e as StreamVlmError;
  return { name: err?.name, code: err?.code, message: err?.message, typed: e instanceof StreamVlmError };
}

async function collect(events: AsyncIterable<AskEvent>, onMoments?: () => void): Promise<Answer> {
  let moments: Moment[] = [];
  for await (const e of events) {
    if (e.type === 'moments') {
      moments = e.moments;
      onMoments?.();
    } else if (e.type === 'done') return { tokens: e.tokens, text: e.text, moments };
  }
  throw new Error('no done event');
}

/** An event as the specs compare it: its type, and for 'recovered' `:<window frames restored>/<frames lost>`. */
const describe = (e: DeviceEvent) => (e.type === 'recovered' ? `recovered:${e.windowFramesRestored}/${e.framesLost}` : e.type);

function record(vlm: StreamVLM, into: string[]): void {
  for (const type of ['devicelost', 'recovered', 'recoveryfailed'] as const) {
    vlm.addEventListener(type, (e) => into.push(describe(e.detail)));
  }
}

function waitFor(vlm: StreamVLM, type: 'recovered' | 'recoveryfailed'): Promise<void> {
  return new Promise((resolve) => vlm.addEventListener(type, () => resolve(), { once: true }));
}

/**
 * The stream the tests watch the clip with. `loseDuringLoads`: the test hook destroying the device
 * of those loads (0: the first; then each try after a loss); the load's own events go to `loadEvents`.
 */
async function load(kvBits: 4 | 'none', clip: NeedleStream, windowBackup = true, loseDuringLoads?: number[], loadEvents?: string[]): Promise<StreamVLM> {
  return StreamVLM.load(MODEL, {
    kvBits,
    windowFrames: SETUP.windowFrames,
    topK: SETUP.topK,
    maxAnswerTokens: 8,
    timestamps: 'frames',
    queueCapacity: clip.frames,
    memoryRamMB: Infinity,
    persistStorage: false,
    windowBackup,
    loseDeviceDuringLoadsForTesting: loseDuringLoads,
    onDeviceEvent: (e) => loadEvents?.push(describe(e)),
  });
}

function push(vlm: StreamVLM, clip: NeedleStream, i: number) {
  return vlm.pushFrame({ width: clip.width, height: clip.height, data: renderFrame(clip, i) }, i * 1000);
}

const timelineOf = async (vlm: StreamVLM) => (await vlm.timeline()).map((f) => f.timestampMs);

async function run(kvBits: 4 | 'none', lossesInLoads = false): Promise<LossResult> {
  // 12 frames at 1 frame/s, the needle at frame 2: 9 frames before the end, outside the 4-frame window
  const clip = planNeedleStream({ seed: 1, frames: SETUP.frames, depths: [0.2] });
  const n = clip.needles[0];
  const question = colorQuestion(n.shape as Parameters<typeof colorQuestion>[0]);
  const vlm = await load(kvBits, clip);
  const events: string[] = [];
  record(vlm, events);
  for (let i = 0; i < clip.frames; i++) await push(vlm, clip, i);
  await vlm.idle();
  const timelineBefore = await timelineOf(vlm);
  const before = await collect(vlm.ask(question));

  // 1. the device goes while an answer is being made (its context is built: 'moments' came)
  let midAnswer: Answer | Failure;
  const recovered = waitFor(vlm, 'recovered');
  try {
    midAnswer = await collect(vlm.ask(question), () => void vlm.loseDeviceForTesting());
  } catch (e) {
    midAnswer = failure(e);
  }
  // asked at once, during the recovery: the question waits for the new device
  const eventsAtAsk = [...events];
  const statsDuringRecovery = await vlm.stats();
  const timelineDuringRecovery = await timelineOf(vlm);
  const afterAnswer = await collect(vlm.ask(question));
  await recovered;
  const statsAfterAnswerLoss = await vlm.stats();
  let saved: LossResult['saved'];
  try {
    saved = { blocks: (await vlm.saveMemory('after-device-loss')).blocks };
  } catch (e) {
    saved = failure(e);
  }
  await vlm.deleteMemory('after-device-loss').catch(() => {});
  await vlm.dispose();

  // 2. the device goes while frames are being ingested; the question is asked at once. With
  // lossesInLoads, also while the first load uploads the weights (load 0; load 1 is the start's
  // retry) and while the recovery from the mid-stream loss reloads them (load 2; load 3 its retry)
  const loadEvents: string[] = [];
  const second = await load(kvBits, clip, true, lossesInLoads ? [0, 2] : undefined, loadEvents);
  const secondEvents: string[] = [];
  record(second, secondEvents);
  // the first frames ingested, the rest offered at once, and the device destroyed while they
  // wait and ingest (on a fast card too, where frames ingest faster than a poll could catch)
  for (let i = 0; i < SETUP.lossAtIngested; i++) await push(second, clip, i);
  await second.idle();
  for (let i = SETUP.lossAtIngested; i < clip.frames; i++) await push(second, clip, i);
  const losing = second.loseDeviceForTesting();
  const lostAtIngested = (await second.stats()).frames.ingested;
  await losing;
  // during the recovery: the question waits for the new device, then for the frames before it
  await second.idle();
  const answer = await collect(second.ask(question));
  const midStream = { lostAtIngested, loadEvents, events: secondEvents, answer, stats: await second.stats(), timeline: await timelineOf(second) };
  await second.dispose();
  return { setup: SETUP, precision: second.info.precision, needle: { frame: n.frame, color: n.color, question }, before, midAnswer, events, eventsAtAsk, statsDuringRecovery, timelineDuringRecovery, afterAnswer, statsAfterAnswerLoss, saved, midStream, timelineBefore };
}

/** Without window backups: the window's frames at the loss are lost and counted; memory still answers. */
async function withoutBackup(): Promise<NoBackupResult> {
  const clip = planNeedleStream({ seed: 1, frames: SETUP.frames, depths: [0.2] });
  const n = clip.needles[0];
  const question = colorQuestion(n.shape as Parameters<typeof colorQuestion>[0]);
  // the recovery's first reload (load 1) loses its new device in turn: the next try recovers
  const vlm = await load(4, clip, false, [1]);
  const events: string[] = [];
  record(vlm, events);
  for (let i = 0; i < clip.frames; i++) await push(vlm, clip, i);
  await vlm.idle();
  const before = await collect(vlm.ask(question));
  const recovered = waitFor(vlm, 'recovered');
  await vlm.loseDeviceForTesting();
  await recovered;
  const after = await collect(vlm.ask(question));
  const stats = await vlm.stats();
  const timeline = await timelineOf(vlm);
  await push(vlm, clip, 0).catch(() => {}); // an old timestamp: refused, the clock survived the loss
  await vlm.pushFrame({ width: clip.width, height: clip.height, data: renderFrame(clip, 5) }, clip.frames * 1000);
  await vlm.idle();
  const ingestedAfter = (await vlm.stats()).engine!.framesIngested;
  await vlm.dispose();
  return { setup: SETUP, precision: vlm.info.precision, needleFrame: n.frame, events, before, after, stats, timeline, ingestedAfter };
}

/** The device destroyed at each of the load's four tries: load() rejects, typed, within seconds. */
async function lostEveryTry(): Promise<LostEveryTryResult> {
  const clip = planNeedleStream({ seed: 1, frames: SETUP.frames, depths: [0.2] });
  const events: string[] = [];
  const t0 = performance.now();
  let outcome: LostEveryTryResult['outcome'];
  try {
    const vlm = await load(4, clip, true, [0, 1, 2, 3, 4, 5, 6, 7], events);
    outcome = 'loaded';
    await vlm.dispose();
  } catch (e) {
    outcome = failure(e);
  }
  return { outcome, events, ms: performance.now() - t0 };
}

let stepped: StreamVLM | null = null;
const steppedClip = planNeedleStream({ seed: 2, frames: 10, depths: [0.1] });
const steps: Steps = {
  async load(cache) {
    stepped = await StreamVLM.load(MODEL, { kvBits: 4, windowFrames: 4, topK: 2, maxAnswerTokens: 4, timestamps: 'frames', queueCapacity: 10, memoryRamMB: Infinity, persistStorage: false, cache });
    for (let i = 0; i < steppedClip.frames; i++) await push(stepped, steppedClip, i);
    await stepped.idle();
  },
  async lose() {
    const vlm = stepped!;
    const details: { type: string }[] = [];
    const done = new Promise<void>((resolve) => {
      for (const type of ['devicelost', 'recovered', 'recoveryfailed'] as const) {
        vlm.addEventListener(type, (e) => {
          details.push((e as CustomEvent<{ type: string }>).detail);
          if (type !== 'devicelost') resolve();
        });
      }
    });
    await vlm.loseDeviceForTesting();
    await done;
    return details;
  },
  async ask() {
    try {
      return await collect(stepped!.ask(colorQuestion(steppedClip.needles[0].shape as Parameters<typeof colorQuestion>[0])));
    } catch (e) {
      return failure(e);
    }
  },
  async save() {
    try {
      const report = await stepped!.saveMemory('device-loss-steps');
      await stepped!.deleteMemory('device-loss-steps');
      return { blocks: report.blocks };
    } catch (e) {
      return failure(e);
    }
  },
  async saveAcrossLoss() {
    const vlm = stepped!;
    const first = (await vlm.saveMemory('across-loss')).blocks;
    for (let i = 10; i < 12; i++) await vlm.pushFrame({ width: steppedClip.width, height: steppedClip.height, data: renderFrame(steppedClip, i % steppedClip.frames) }, i * 1000);
    await vlm.idle();
    const recovered = waitFor(vlm, 'recovered');
    const saving = vlm.saveMemory('across-loss').then(
      (r) => ({ blocks: r.blocks }),
      (e) => failure(e),
    );
    await vlm.loseDeviceForTesting();
    const second = await saving;
    await recovered;
    const reopened = (await openMemory('across-loss')).blocks.length;
    await deleteMemory('across-loss');
    return { first, second, reopened };
  },
  stats: () => stepped!.stats(),
  dispose: () => stepped!.dispose(),
};

window.deviceLoss = { run, withoutBackup, lostEveryTry, steps };
