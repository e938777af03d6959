import { nodeRankingWorkers } from '../platform/node/ranking-workers';
import { StreamEngine } from '../engine/stream-engine';
import type { AskEvent, AskOptions, Moment } from '../engine/types';
import { frameTimestamp } from '../model/prompt';
import { modelLoadOptions } from './load-options';
import { loadModel } from '../families/registry';
import { Scheduler } from '../engine/scheduler';
import { FsSource } from '../platform/node/fs-source';
import { modelSourceOf } from './model-source';
import { FsSpill } from '../platform/node/fs-spill';
import { checkMemoryFolder, saveMemoryFolder, type WatchSettings } from '../platform/node/memory-folder';
import { ProgressBar } from './progress-bar';
import { acquireNodeGpu } from '../platform/node/node-gpu';
import { announceAdapter, jsonLine, terminalSafe } from './terminal-text';
import { RecoverableStream } from '../engine/recoverable-stream';
import type { WatchOptions } from './watch-options';
import { frameToRgb, readY4m, type Y4mVideo } from './y4m';

export interface WatchAnswer {
  question: string;
  /** When it was asked, in video time (the end of the video for untimed questions). */
  askedAtMs: number;
  tokens: number[];
  text: string;
  moments: (Moment & { time: string })[];
  /** How the memory was ranked: worker threads, and the ranking's and the first token's time, ms. */
  ranking: { threads: number; ms: number; firstTokenMs: number };
}

const time = (ms: number) => frameTimestamp(ms / 1000);

/**
 * `streamvlm watch`: plays a .y4m video through the streaming engine as a live camera would feed it
 * (frames sampled at --fps by their timestamps, the Scheduler's policy), asks each question at its
 * video time (`@<seconds>`; the answer sees only the frames up to then) or at the end, and prints
 * each answer with the moments it used as MM:SS. --json prints one JSON line per answer, last.
 * The file is read and checked before the GPU is touched, so a bad file fails fast.
 */
export async function watchCommand(o: WatchOptions): Promise<number> {
  const video: Y4mVideo = await readY4m(o.video);
  if (o.saveMemory) await checkMemoryFolder(o.saveMemory);
  const frameMs = (1000 * video.header.fpsDen) / video.header.fpsNum;
  const durationMs = video.frameOffsets.length * frameMs;
  // asked in video-time order; untimed ones (and those past the end) at the end, as given
  const questions = o.questions.map((q, order) => ({ ...q, order, dueMs: q.atMs === null ? Infinity : q.atMs })).sort((a, b) => a.dueMs - b.dueMs || a.order - b.order);

  const bar = ProgressBar.forTerminal(o.json);
  const source = modelSourceOf(o.model);
  let announced = false;
  let lostDuringLoad = false;
  // the device, model and engine, replaced by themselves if the GPU device is lost (the memory and
  // the window, backed up in RAM, carry over)
  const stream = await RecoverableStream.start(
    {
      // the adapter is announced once, not again at each recovery
      acquire: () => acquireNodeGpu({ onAdapter: o.json || announced ? undefined : (a) => ((announced = true), announceAdapter(a)) }),
      loadModel: async (gpu) => {
        const progress = bar.loadProgress(!(source instanceof FsSource));
        // the test hook: the first device goes when the first weights are on their way to it
        const loseHere = o.loseDeviceDuringLoad && !lostDuringLoad;
        lostDuringLoad ||= loseHere;
        const onProgress: typeof progress = (p) => {
          if (loseHere && p.phase === 'upload' && !gpu.lost) gpu.device.destroy();
          progress(p);
        };
        return { model: await loadModel(gpu, source, { ...modelLoadOptions(o.load, gpu), onProgress }), fromCache: false };
      },
      async createEngine(model, resume) {
        const options = { windowBackup: true, ...o.engine };
        if (resume) return StreamEngine.create(model, options, { resume });
        // a RAM budget spills older frames' K/V to a temp folder (removed with the engine)
        const spill = Number.isFinite(o.engine.ramBudgetBytes ?? Infinity) ? await FsSpill.create() : undefined;
        return StreamEngine.create(model, options, { spill, ranking: nodeRankingWorkers(o.rankingThreads) });
      },
    },
    (e) => {
      bar.clear();
      if (e.type === 'devicelost') process.stderr.write(`GPU device lost (${e.reason}); recovering\n`);
      else if (e.type === 'recovered') process.stderr.write(`recovered in ${(e.ms / 1000).toFixed(1)} s: ${e.windowFramesRestored} window frames restored, ${e.framesLost} lost\n`);
      else process.stderr.write(`recovery failed: ${e.message}\n`);
    },
  );
  try {
    const answers: WatchAnswer[] = [];
    // y4m frame numbers wait in the queue; a frame is converted to RGB only when ingested
    const scheduler = new Scheduler<number, AskOptions, AskEvent>(
      { ingest: (i, ts) => stream.run((engine) => engine.ingest(frameToRgb(video, i), ts), true), ask: (q, a) => stream.ask(q, a) },
      { fps: o.fps, queueCapacity: 1, onIngestError: (e) => (ingestError ??= e) },
    );
    let ingestError: unknown = null;
    const askNow = async (q: (typeof questions)[number], atMs: number) => {
      await scheduler.idle();
      bar.clear();
      if (!o.json) process.stdout.write(`[${time(atMs)}] ${terminalSafe(q.question)}\n`);
      let moments: Moment[] = [];
      let done: Extract<AskEvent, { type: 'done' }> | null = null;
      await scheduler.ask(q.question, { maxNewTokens: o.maxNewTokens }, (e) => {
        if (e.type === 'moments') moments = e.moments;
        else if (e.type === 'token' && !o.json) process.stdout.write(terminalSafe(e.text));
        else if (e.type === 'done') done = e;
      });
      const d = done as Extract<AskEvent, { type: 'done' }> | null;
      if (!d) throw new Error(`the answer to "${q.question}" ended without a done event`);
      const ranking = { threads: stream.engine.stats().rankingThreads, ms: d.timing.rankMs, firstTokenMs: d.timing.firstTokenMs };
      const answer: WatchAnswer = { question: q.question, askedAtMs: atMs, tokens: d.tokens, text: d.text, moments: moments.map((m) => ({ ...m, time: time(m.timestampMs) })), ranking };
      answers.push(answer);
      if (!o.json) {
        const used = answer.moments.map((m) => (m.from === 'memory' ? `${m.time}*` : m.time)).join(' ');
        process.stdout.write(`\n  moments: ${used}  (* = from memory)\n`);
      }
    };

    let next = 0;
    for (let i = 0; i < video.frameOffsets.length; i++) {
      const ts = i * frameMs;
      // a question asked at t sees the frames up to t
      while (next < questions.length && questions[next].dueMs < ts) {
        await askNow(questions[next], questions[next].dueMs);
        next++;
      }
      scheduler.offer(i, ts);
      if (o.loseDeviceAtMs !== null && ts >= o.loseDeviceAtMs && ts - frameMs < o.loseDeviceAtMs) stream.loseDevice();
      // a file is not a live camera: wait for each frame instead of dropping behind
      await scheduler.idle();
      if (ingestError) throw ingestError;
      bar.update('watching', i + 1, video.frameOffsets.length, 'frames');
    }
    for (; next < questions.length; next++) await askNow(questions[next], Math.min(questions[next].dueMs, durationMs));
    await scheduler.close();
    bar.clear();

    const engine = stream.engine;
    await engine.store.settled(); // the summary counts the frames whose K/V reached the disk
    const s = scheduler.stats();
    const e = engine.stats();
    if (o.json) {
      // answers[k] answers questions[k]; printed in the order the questions were given
      const given = answers.map((a, k) => ({ a, order: questions[k].order })).sort((x, y) => x.order - y.order);
      for (const { a } of given) console.log(jsonLine(a));
    } else {
      const onDisk = e.storeSpilledFrames ? `, ${e.storeSpilledFrames} of them on disk` : '';
      const r = stream.recovery.stats;
      const losses = r.losses ? `; ${r.losses} GPU device losses, ${r.recoveries} recovered, ${e.framesLostToDeviceLoss} frames lost` : '';
      console.log(`watched ${time(durationMs)}: ${s.ingested} of ${video.frameOffsets.length} frames at ${o.fps} fps; window ${e.windowFrames} frames, memory ${e.storeFrames} frames (${(e.storeBytes / 1024).toFixed(0)} KiB${onDisk})${losses}`);
    }
    if (o.saveMemory) {
      // the store and the window, as the browser's saveMemory writes them
      const { meta, blocks } = await engine.memorySnapshot();
      const { windowFrames, topK, frameResize } = o.engine;
      const settings: WatchSettings = { model: o.model, weights: o.load.weightFormat, precision: meta.dtype, windowFrames, topK, kvBits: meta.bits, frameResize, fps: o.fps };
      const report = await saveMemoryFolder(o.saveMemory, meta, blocks, settings);
      if (!o.json) console.log(`saved the memory of ${report.blocks} frames in ${terminalSafe(o.saveMemory)} (${(report.bytesWritten / 1024).toFixed(0)} KiB written); ask it with: streamvlm ask --memory ${terminalSafe(o.saveMemory)} "<question>"`);
    }
    return 0;
  } finally {
    await stream.dispose();
  }
}
