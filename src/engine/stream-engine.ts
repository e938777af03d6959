import { InputError } from '../errors';
import { SerialQueue } from '../serial-queue';
import { checkSetting, definedOnly, ENGINE_DEFAULTS } from '../settings/index';
import { IncrementalDecoder } from '../model/incremental-decoder';
import { CommandRecorder } from '../gpu/recorder';
import { fromF16Bits, toF16Bits } from '../gpu/f16';
import { readBuffer, Tensor } from '../gpu/tensor';
import { mergeImageFeatures } from '../model/merge-image-features';
import type { RgbImage } from '../model/preprocess';
import type { FrameEncoder, StreamLayout, VisionLanguageModel } from '../families/family';
import { generateGreedy, positionTensor } from '../model/generate';
import type { KvCache } from '../memory/kv-cache';
import { FrameBlockWriter } from '../memory/evict';
import { lazyBlock, type FrameBlock, type KvStoreBits, type LazyFrameBlock, type Thumbnail } from '../memory/frame-block';
import { checkStoreMeta } from '../memory/compatibility';
import { RAW_CODEC } from '../memory/codecs/raw';
import { codecOf, kvCodec } from '../memory/codecs/registry';
import { checkPayload } from '../memory/payload';
import { FrameBlockReader } from '../memory/restore';
import type { ParallelRanking } from '../memory/ranking-shard-protocol';
import { ShardLostError } from '../memory/ranking-shards';
import type { Ranking, RetrievalIndex } from '../memory/retrieval/policy';
import { retrievalPolicy } from '../memory/retrieval/registry';
import { rankingPath } from '../memory/simd-dot';
import type { PayloadSpill } from '../memory/spill';
import { MemoryStore, type FrameInputs, type StoreMeta } from '../memory/store';
import { makeThumbnail } from '../memory/thumbnail';
import { AsyncChannel } from './async-channel';
import type { EngineState } from './engine-state';
import { checkFrame } from './frame-check';
import type { AskEvent, AskOptions, EngineStats, FrameSummary, IngestResult, Moment, StreamEngineOptions } from './types';

/** A frame in the GPU window: rows [start, start + tokens) of the stream cache. */
interface WindowFrame {
  index: number;
  timestampMs: number;
  start: number;
  tokens: number;
  thumbnail: Thumbnail;
  /**
   * Its piece's input embeddings (answerContext 'reprefill'), read back after its prefill, in RAM
   * (so a lost device loses none of them); they move to the store at eviction.
   */
  inputs: FrameInputs | null;
  /** Its rows' raw K/V in RAM (options.windowBackup), to rebuild the window on a new GPU device. */
  backup: FrameBlock | null;
}

const now = () => performance.now();

/** Thrown from the token callback when the consumer stopped reading an answer. */
const CANCELLED = Symbol('answer cancelled');

/**
 * The engine's options checked by the settings' rules (the SDK's and the CLI's too) and completed
 * with the engine's defaults; retrievalLayer is checked against the model's `layers`.
 */
function engineSettings(options: StreamEngineOptions, layers: number): Required<StreamEngineOptions> {
  const names = ['windowFrames', 'topK', 'maxQuestionTokens', 'maxAnswerTokens', 'thumbnailEdge', 'answerContext', 'retrieval', 'ramBudgetBytes', 'kvBits', 'kvCodec', 'frameResize'] as const;
  for (const name of names) checkSetting(name, options[name], `StreamEngine: ${name}`);
  const o: Required<StreamEngineOptions> = { ...ENGINE_DEFAULTS, ...definedOnly(options) };
  // a codec alone names its bits; kvBits alone names its codec; both must agree (codecOf throws)
  if (options.kvCodec !== undefined && options.kvBits === undefined) o.kvBits = kvCodec(options.kvCodec).bits;
  o.kvCodec = codecOf({ bits: o.kvBits, codec: options.kvCodec }).id;
  if (!Number.isInteger(o.retrievalLayer) || o.retrievalLayer < 0 || o.retrievalLayer >= layers) throw new InputError(`StreamEngine: retrievalLayer must be a layer index in 0…${layers - 1}, got ${String(o.retrievalLayer)}`);
  return o;
}

/**
 * Watches a stream and answers questions about all of it at a cost that does not grow with its
 * length (DESIGN data flow). Two KV caches on the GPU, both sized once:
 *
 * - the stream cache: [sinks = the stream prefix][recent window of W frames], full precision.
 *   `ingest` encodes a frame (vision tower + connector) and prefills its piece on top of the sinks
 *   and the window (ReKV / StreamingLLM sliding-window encoding). When the window is full, the
 *   oldest frame first leaves it: its rows become a FrameBlock (K/V quantized, key summary,
 *   thumbnail) in the MemoryStore, and the later rows move down.
 * - the answer cache: rebuilt for each question as [sinks][retrieved frames, in time order]
 *   [window][question][answer].
 *
 * Position scheme. Keys are cached before RoPE (DESIGN decision 3) and every row's position is its
 * index in the cache it is in: contiguous positions, as StreamingLLM (within the cache) and ReKV (at
 * question time) do. A frame is encoded at position S + (rows of the window before it), so positions
 * never exceed S + W·F while ingesting, and S + (k + W)·F + question + answer while answering —
 * bounded by the settings, never by the stream's length, and checked against the model's
 * max_position_embeddings at creation. Gaps between retrieved frames vanish (their timestamps stay
 * in their `Frame from MM:SS:` text). With a window that holds the whole stream, every position
 * equals its position in the one-shot prompt, so the answer is transformers' (tested).
 *
 * Calls run one at a time in call order; an answer holds the engine until its last token, so it
 * never sees frames that arrive after its question (the worker's scheduler queues them and lets
 * questions go first).
 */
export class StreamEngine {
  readonly store: MemoryStore;
  private readonly queue = new SerialQueue();
  private disposed = false;
  private readonly window: WindowFrame[] = [];
  private nextIndex = 0;
  private lastTimestamp: number | null = null;
  private readonly stage = { encode: 0, prefill: 0, evict: 0 };
  private stageSamples = 0;
  /** Window frames lost with a GPU device (no backup to rebuild them), over the engine's lineage. */
  private framesLost = 0;
  /** The store and spill now belong to a successor engine (handOver): dispose must not free them. */
  private handedOver = false;

  private constructor(
    readonly model: VisionLanguageModel,
    readonly options: Required<StreamEngineOptions>,
    readonly meta: StoreMeta,
    private readonly prompt: StreamLayout,
    /** Rows of the stream prefix (the sinks). */
    readonly sinkTokens: number,
    /** Most rows a frame piece can take (the caches are sized with it). */
    readonly maxFrameTokens: number,
    private readonly streamCache: KvCache,
    private readonly answerCache: KvCache,
    private readonly encoder: FrameEncoder,
    private readonly writer: FrameBlockWriter,
    private readonly reader: FrameBlockReader,
    private readonly spill: PayloadSpill | null,
    /** Reads each window frame's rows back raw after its prefill (null: options.windowBackup off). */
    private readonly backupWriter: FrameBlockWriter | null,
    /** Worker threads the retrieval index may rank with (StreamEngine.create's `host.ranking`). */
    private readonly parallelRanking: ParallelRanking | undefined,
    store: MemoryStore | null,
  ) {
    this.store = store ?? new MemoryStore(meta, { ramBudgetBytes: options.ramBudgetBytes, spill: spill ?? undefined, index: this.createRetrievalIndex() });
  }

  /**
   * A fresh index of this engine's retrieval policy and layer: what its store is made with, and
   * what a store made outside an engine (memory/transcode.ts) needs for an engine of the same
   * settings to resume it.
   */
  createRetrievalIndex(): RetrievalIndex {
    const kv = this.model.kvShape;
    return retrievalPolicy(this.options.retrieval).createIndex({ layers: kv.layers, heads: kv.queryHeads, kvHeads: kv.kvHeads, headDim: kv.headDim, layer: this.options.retrievalLayer }, this.parallelRanking);
  }

  /**
   * `host.spill`: where the memory store puts payloads beyond `ramBudgetBytes` (OpfsSpill in a
   * browser); the engine owns it from here on and destroys it with itself.
   * `host.resume`: the state an engine on a lost GPU device handed over (handOver): this engine
   * takes its memory store and spill as they are and rebuilds the window from its RAM backups, so
   * the stream goes on as if the device had never been lost.
   * `host.ranking`: worker threads the retrieval index ranks stored frames with (ranking-shards.ts:
   * the same scores, the cost that grows with the store divided among them); without it, or where
   * no worker starts, ranking runs in the engine's thread. A resumed store keeps its index.
   */
  static async create(model: VisionLanguageModel, options: StreamEngineOptions = {}, host: { spill?: PayloadSpill; resume?: EngineState; ranking?: ParallelRanking } = {}): Promise<StreamEngine> {
    const o = engineSettings(options, model.kvShape.layers);

    const text = model.text;
    const t = model.config.text;
    const prompt = model.streamLayout();
    const prefix = prompt.prefixIds();
    // timestamps up to 999:59 (16 h) may add digits; two rows of slack beyond the longest seen
    const maxFrameTokens = Math.max(prompt.frameIds(0).length, prompt.frameIds(999 * 60_000 + 59_000).length) + 2;
    const S = prefix.length;
    const streamRows = S + o.windowFrames * maxFrameTokens;
    const answerRows = S + (o.topK + o.windowFrames) * maxFrameTokens + o.maxQuestionTokens + o.maxAnswerTokens;
    if (answerRows > t.maxPositions) {
      throw new InputError(
        `StreamEngine: ${o.windowFrames} window + ${o.topK} retrieved frames of ≤ ${maxFrameTokens} tokens, ${o.maxQuestionTokens} question and ${o.maxAnswerTokens} answer tokens need ${answerRows} positions; the model has ${t.maxPositions}. Use a smaller window or top-k.`,
      );
    }
    const kv = model.kvShape;
    const codec = codecOf({ bits: o.kvBits, codec: o.kvCodec });
    const meta: StoreMeta = { modelKey: model.key, layers: kv.layers, kvHeads: kv.kvHeads, headDim: kv.headDim, bits: codec.bits, codec: codec.id, dtype: kv.dtype };
    const resume = host.resume;
    if (resume) {
      checkStoreMeta(resume.store.meta, meta, (key, have, want) => `StreamEngine: the memory to resume has ${key} ${have}, the new engine ${want}`);
    }
    const streamCache = text.createCache(streamRows);
    const answerCache = text.createCache(answerRows);
    const backupWriter = o.windowBackup ? new FrameBlockWriter(model.gpu, { ...meta, bits: RAW_CODEC.bits, codec: RAW_CODEC.id }) : null;
    const engine = new StreamEngine(model, o, meta, prompt, S, maxFrameTokens, streamCache, answerCache, model.createFrameEncoder(o.frameResize), new FrameBlockWriter(model.gpu, meta), new FrameBlockReader(model.gpu), resume ? resume.spill : (host.spill ?? null), backupWriter, host.ranking, resume?.store ?? null);
    // the sinks: the prefix, prefilled once
    const rec = new CommandRecorder(model.gpu, undefined, 'stream prefix');
    const done = engine.recordPiece(rec, streamCache, prefix, null);
    rec.submit();
    done();
    if (resume) engine.resumeWindow(resume);
    await model.gpu.workDone();
    return engine;
  }

  /**
   * Takes over a handed-over stream: clock and counts, and the window frames rebuilt from their raw
   * backups into the rows they held (the sinks are prefilled identically, rows are positions), so
   * the stream cache is bit for bit the lost one. Frames without a backup are counted as lost.
   */
  private resumeWindow(state: EngineState): void {
    this.nextIndex = state.nextIndex;
    this.lastTimestamp = state.lastTimestampMs;
    this.framesLost = state.framesLost;
    let row = this.sinkTokens;
    for (const w of state.window) {
      if (!w.backup) {
        this.framesLost++;
        continue;
      }
      this.reader.restore(this.streamCache, w.backup, row);
      this.window.push({ ...w, start: row, tokens: w.backup.tokens, backup: w.backup, inputs: w.inputs ?? null });
      row += w.backup.tokens;
    }
    this.streamCache.truncate(row);
  }

  /**
   * For a successor engine on a new GPU device (StreamEngine.create's `host.resume`): the memory
   * store and its spill (RAM and OPFS, untouched by the loss), the window frames with their RAM
   * backups, and the clock. Runs after the calls already queued (on a lost device they fail
   * quickly); afterwards this engine is disposed and its dispose leaves the store and spill alone.
   */
  handOver(): Promise<EngineState> {
    return this.exclusive(async () => {
      this.handedOver = true;
      this.disposed = true;
      this.destroyGpuResources();
      return {
        store: this.store,
        spill: this.spill,
        window: this.window.map((w) => ({ index: w.index, timestampMs: w.timestampMs, thumbnail: w.thumbnail, backup: w.backup, inputs: w.inputs })),
        nextIndex: this.nextIndex,
        lastTimestampMs: this.lastTimestamp,
        framesLost: this.framesLost,
      };
    });
  }

  /** Runs `fn` after every call before it (one at a time). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new InputError('this StreamEngine was disposed'));
    return this.queue.run(fn);
  }

  /**
   * Records the prefill of a prompt piece (ids, with the frame's image embeddings at its image
   * tokens) appended to `cache` at positions = rows. Returns the cleanup of its temporaries, to run
   * after the submit.
   */
  private recordPiece(rec: CommandRecorder, cache: KvCache, ids: number[], features: Tensor | null, captureQueries?: Tensor, keepInputs?: Tensor): () => void {
    const text = this.model.text;
    const idTensor = Tensor.from(this.model.gpu, ids, [ids.length], 'u32', 'piece ids');
    const embeddings = text.createEmbeddings(ids.length);
    const positions = positionTensor(text, cache.length, ids.length);
    mergeImageFeatures(rec, text, ids, idTensor, features, this.model.config.imageTokenId, embeddings);
    // a copy before the forward pass, which works in its own buffers (recorder copies end the compute pass, so they keep their order)
    if (keepInputs) rec.copy(embeddings.buffer, 0, keepInputs.buffer, 0, keepInputs.byteLength);
    text.forward(rec, cache, embeddings, positions, { rows: 'none', captureQueries });
    return () => [idTensor, embeddings, positions].forEach((x) => x.destroy());
  }

  /**
   * Encodes a frame and adds it to the stream at `timestampMs` (ms since the stream began; never
   * decreasing). Bad frames and timestamps are refused with InputError before anything changes.
   */
  ingest(frame: RgbImage, timestampMs: number): Promise<IngestResult> {
    try {
      checkFrame(frame);
      if (!Number.isFinite(timestampMs) || timestampMs < 0) throw new InputError(`ingest: timestamp ${timestampMs} ms is not a time ≥ 0`);
    } catch (e) {
      return Promise.reject(e);
    }
    // the pixels are read on the host now (thumbnail) and by the preprocessing upload at its turn;
    // keep a reference only, the caller must not reuse the buffer before the promise settles
    return this.exclusive(() => this.runIngest(frame, timestampMs));
  }

  private async runIngest(frame: RgbImage, timestampMs: number): Promise<IngestResult> {
    if (this.lastTimestamp !== null && timestampMs < this.lastTimestamp) {
      throw new InputError(`ingest: timestamp ${timestampMs} ms goes back before the previous frame's ${this.lastTimestamp} ms`);
    }
    const gpu = this.model.gpu;
    const ids = this.prompt.frameIds(timestampMs);
    if (ids.length > this.maxFrameTokens) throw new InputError(`ingest: the frame piece has ${ids.length} tokens, more than the ${this.maxFrameTokens} the caches were sized for`);
    const thumbnail = makeThumbnail(frame, this.options.thumbnailEdge);
    const t0 = now();

    // 1. the oldest frame leaves the window first, so the new one sees the sinks + W−1 frames.
    // 2. the new frame's encode (preprocess, vision, connector), which reads no cache row.
    // 3. the frame's piece prefilled into the cache.
    // The GPU gets them back to back: the eviction is submitted, the encode right behind it, and the
    // prefill is recorded while the GPU encodes (as soon as the eviction's read-back has landed and
    // the window has shifted); the ingest then waits once, for the prefill's read-backs. Each wait
    // is a GPU round trip (150–200 µs in Chromium) with the GPU idle while the host records the next
    // stage; there were five a frame.
    const leaving = this.window.length >= this.options.windowFrames ? this.window[0] : null;
    const eviction = leaving ? this.writer.write(this.streamCache, leaving.start, leaving.tokens, leaving) : null;
    let rec = new CommandRecorder(gpu, undefined, 'frame encode');
    let cleanEncode: () => void;
    try {
      cleanEncode = this.encoder.record(rec, frame);
      rec.submit();
    } catch (e) {
      // nothing changed: the eviction's block is dropped (its frame stays in the window)
      eviction?.catch(() => {});
      throw e;
    }
    // stage times: evict until the eviction has landed (its GPU work runs ahead of the encode's; 0
    // without one), encode until the GPU has finished it (observed, not waited for), prefill the rest
    const encodeDone = gpu.workDone().then(now, now); // a lost device surfaces from the read-backs
    let evicted: number | null = null;
    let t1 = t0;
    const index = this.nextIndex;
    let start = 0;
    let inputs: FrameInputs | null = null;
    let backup: FrameBlock | null = null;
    let t2 = t0;
    try {
      if (leaving && eviction) {
        const block = await eviction;
        this.store.add(block);
        if (leaving.inputs) this.store.setInputs(this.store.frames - 1, leaving.inputs);
        const shift = new CommandRecorder(gpu, undefined, 'window shift');
        this.streamCache.removeRows(shift, leaving.start, leaving.tokens);
        shift.submit();
        this.window.shift();
        for (const w of this.window) w.start -= leaving.tokens;
        evicted = leaving.index;
        t1 = now();
      }
      start = this.streamCache.length;
      rec = new CommandRecorder(gpu, undefined, 'frame prefill');
      const inputsOnGpu = this.options.answerContext === 'reprefill' ? this.model.text.createEmbeddings(ids.length) : null;
      let cleanPrefill: (() => void) | null = null;
      try {
        cleanPrefill = this.recordPiece(rec, this.streamCache, ids, this.encoder.features, undefined, inputsOnGpu ?? undefined);
        rec.submit();
        // one wait for both read-backs (each waits for the prefill). The backup's read-back is also
        // the proof that the frame's rows are real: on a lost device onSubmittedWorkDone resolves but
        // a map rejects, so the frame is not taken into the window
        const [inputBits, backupBlock, encoded] = await Promise.all([
          inputsOnGpu ? f16Bits(inputsOnGpu) : null,
          this.backupWriter ? this.backupWriter.write(this.streamCache, start, ids.length, { index, timestampMs, thumbnail }) : gpu.workDone().then(() => null),
          encodeDone,
        ]);
        if (inputBits) inputs = { tokens: ids.length, embeddings: inputBits };
        backup = backupBlock;
        t2 = Math.max(t1, encoded);
      } finally {
        cleanPrefill?.();
        inputsOnGpu?.destroy();
      }
    } finally {
      cleanEncode();
    }
    if (gpu.lost) throw gpu.lost;
    const t3 = now();

    this.nextIndex++;
    this.window.push({ index, timestampMs, start, tokens: ids.length, thumbnail, inputs, backup });
    this.lastTimestamp = timestampMs;
    const ms = { evict: t1 - t0, encode: t2 - t1, prefill: t3 - t2, total: t3 - t0 };
    this.recordStage(ms);
    return { frameIndex: index, timestampMs, evictedFrameIndex: evicted, ms };
  }

  private recordStage(ms: { encode: number; prefill: number; evict: number }): void {
    // running mean over the last ~32 frames
    const a = Math.max(1 / 32, 1 / ++this.stageSamples);
    for (const k of ['encode', 'prefill', 'evict'] as const) this.stage[k] += a * (ms[k] - this.stage[k]);
  }

  /**
   * Answers a question about everything seen so far: retrieves the top-k frames from memory,
   * restores them with the window behind the sinks, prefills the question and decodes greedily.
   * Yields the moments used, then each token, then 'done'. Stopping the iteration early ends the
   * answer at the next token.
   */
  async *ask(question: string, options: AskOptions = {}): AsyncGenerator<AskEvent> {
    const channel = new AsyncChannel<AskEvent>();
    const state = { cancelled: false };
    const run = this.exclusive(() => this.answer(question, options, channel, state));
    run.then(
      () => channel.close(),
      (e) => channel.close(e === CANCELLED ? undefined : e),
    );
    try {
      yield* channel;
    } finally {
      state.cancelled = true;
    }
  }

  private async answer(question: string, options: AskOptions, channel: AsyncChannel<AskEvent>, state: { cancelled: boolean }): Promise<void> {
    const o = this.options;
    const k = options.topK ?? o.topK;
    const maxNew = options.maxNewTokens ?? o.maxAnswerTokens;
    if (!Number.isInteger(k) || k < 0 || k > o.topK) throw new InputError(`ask: topK must be a whole number in 0…${o.topK} (the engine's setting), got ${k}`);
    if (!Number.isInteger(maxNew) || maxNew < 1 || maxNew > o.maxAnswerTokens) throw new InputError(`ask: maxNewTokens must be a whole number in 1…${o.maxAnswerTokens}, got ${maxNew}`);
    if (this.store.frames + this.window.length === 0) throw new InputError('ask: no frame has been seen yet; ingest frames before asking');
    const ids = this.prompt.questionIds(question);
    if (ids.length > o.maxQuestionTokens) throw new InputError(`ask: the question is ${ids.length} tokens; at most ${o.maxQuestionTokens} fit the context budget`);

    const gpu = this.model.gpu;
    const text = this.model.text;
    const S = this.sinkTokens;
    const t0 = now();

    // 1. retrieval: score every stored frame against the bare question's queries
    let chosen: number[] = [];
    let scores = new Map<number, number>();
    const parts = { queryMs: 0, rankMs: 0, restoreMs: 0 };
    if (this.store.frames > 0 && k > 0) ({ chosen, scores } = await this.retrieveFrames(question, k, parts));

    // 2. context: sinks, retrieved frames in time order, the window — contiguous rows = positions
    const cache = this.answerCache;
    cache.reset();
    let rec = new CommandRecorder(gpu, undefined, 'answer context');
    cache.copyRowsFrom(rec, this.streamCache, 0, 0, S);
    rec.submit();
    cache.truncate(S);
    const restoreStart = now();
    const context = options.answerContext ?? o.answerContext;
    const stored = chosen.map((i) => this.store.inputsOf(i));
    // re-prefilled only where every frame's inputs are at hand (not for frames of a reopened memory,
    // whose saved files hold K/V alone), and only when frames come from memory: the window
    // alone is already one pass on top of the sinks as long as nothing has left it, and otherwise
    // it is the StreamingLLM context a window-only answer is meant to have
    if (context === 'reprefill' && chosen.length > 0 && stored.every((x) => x !== null) && this.window.every((w) => w.inputs !== null)) {
      this.recordReprefill(cache, [...(stored as FrameInputs[]), ...this.window.map((w) => w.inputs!)]);
    } else {
      let row = S;
      // payloads on the spill are read back together; each block is restored as it arrives, in order
      const loads = chosen.map((i) => this.store.load(i));
      loads.forEach((l) => l.catch(() => {})); // a failed read surfaces from the await below
      for (const load of loads) {
        const block = await load;
        this.reader.restore(cache, block, row);
        row += block.tokens;
      }
      const windowRows = this.streamCache.length - S;
      rec = new CommandRecorder(gpu, undefined, 'answer window');
      cache.copyRowsFrom(rec, this.streamCache, S, row, windowRows);
      rec.submit();
      cache.truncate(row + windowRows);
    }
    parts.restoreMs = now() - restoreStart;
    const moments: Moment[] = [
      ...chosen.map((i) => {
        const b = this.store.at(i);
        return { frameIndex: b.index, timestampMs: b.timestampMs, score: scores.get(i) ?? null, from: 'memory' as const };
      }),
      ...this.window.map((w) => ({ frameIndex: w.index, timestampMs: w.timestampMs, score: null, from: 'window' as const })),
    ];
    channel.push({ type: 'moments', moments });
    const retrieveMs = now() - t0;

    // 3. the question, then greedy decoding
    const idTensor = Tensor.from(gpu, ids, [ids.length], 'u32', 'question ids');
    const embeddings = text.createEmbeddings(ids.length);
    let firstTokenMs = 0;
    const tokens: number[] = [];
    const decoder = new IncrementalDecoder((ids) => this.model.tokenizer.decode(ids, { skipSpecialTokens: true }));
    let firstLogits: Float32Array | undefined;
    try {
      rec = new CommandRecorder(gpu, undefined, 'question embed');
      text.embed(rec, idTensor, embeddings);
      rec.submit();
      if (options.withLogits) {
        // the question's prefill alone, its logits read back, then the rows are dropped again
        const before = cache.length;
        const positions = positionTensor(text, before, ids.length);
        rec = new CommandRecorder(gpu, undefined, 'question logits');
        const logits = text.forward(rec, cache, embeddings, positions, { rows: 'last' });
        rec.submit();
        firstLogits = (await logits.readFloat()).slice();
        positions.destroy();
        cache.truncate(before);
      }
      await generateGreedy(text, cache, embeddings, {
        maxNewTokens: maxNew,
        eosTokenIds: this.model.eosTokenIds,
        sampling: options.sampling,
        onToken: (id, last) => {
          if (tokens.length === 0) firstTokenMs = now() - t0;
          tokens.push(id);
          channel.push({ type: 'token', id, text: decoder.push(id, last) });
          if (state.cancelled) throw CANCELLED;
        },
      });
    } finally {
      idTensor.destroy();
      embeddings.destroy();
    }
    const totalMs = now() - t0;
    const decodeMs = totalMs - firstTokenMs;
    channel.push({
      type: 'done',
      tokens,
      text: this.model.tokenizer.decode(tokens, { skipSpecialTokens: true }),
      timing: { firstTokenMs, totalMs, retrieveMs, ...parts, tokensPerSecond: tokens.length > 1 ? ((tokens.length - 1) * 1000) / decodeMs : 0 },
      firstLogits,
    });
  }

  /**
   * ReKV-style retrieval over every stored frame: the bare question is prefilled on top of the sinks
   * alone (in the answer cache, discarded after) while every layer's pre-RoPE queries are captured;
   * see memory/retriever.ts for the similarity.
   */
  /**
   * The answer context encoded afresh (answerContext 'reprefill'): the retrieved frames' and the
   * window's input embeddings, in time order, prefilled in one pass on top of the sinks in `cache`.
   * Every frame's K/V then come from the context the answer sees, as when a clip is encoded in one
   * go, instead of from the contexts the frames had when they arrived (ReKV's restored K/V), on
   * which the needle model reads colours but not times (tools/needle/README.md).
   */
  private recordReprefill(cache: KvCache, frames: FrameInputs[]): void {
    const text = this.model.text;
    const gpu = this.model.gpu;
    const total = frames.reduce((n, x) => n + x.tokens, 0);
    if (total === 0) return;
    const embeddings = text.createEmbeddings(total);
    const rowBytes = embeddings.byteLength / total;
    let row = 0;
    for (const x of frames) {
      const data = embeddings.dtype === 'f16' ? x.embeddings : fromF16Bits(x.embeddings);
      gpu.device.queue.writeBuffer(embeddings.buffer, row * rowBytes, data.buffer, data.byteOffset, data.byteLength);
      row += x.tokens;
    }
    const rec = new CommandRecorder(gpu, undefined, 'answer re-prefill');
    const positions = positionTensor(text, cache.length, total);
    text.forward(rec, cache, embeddings, positions, { rows: 'none' });
    rec.submit();
    embeddings.destroy();
    positions.destroy();
  }

  private async retrieveFrames(question: string, k: number, parts: { queryMs: number; rankMs: number }): Promise<{ chosen: number[]; scores: Map<number, number> }> {
    const t0 = now();
    // the policy's index, complete (frames opened from a saved memory are indexed now if it needs their payloads)
    const index = await this.store.retrievalIndex();
    const queries = await this.captureQueries(question, 'bare');
    const t1 = now();
    parts.queryMs = t1 - t0;
    let ranked: Ranking;
    try {
      ranked = await index.rank(queries, k, this.store);
    } catch (e) {
      if (!(e instanceof ShardLostError)) throw e;
      // a ranking worker died with its frames' keys: the index starts again in this thread and the
      // store gives it every frame again (payloads on the spill are read back), then the same question ranks
      ranked = await (await this.store.retrievalIndex()).rank(queries, k, this.store);
    }
    parts.rankMs = now() - t1;
    return ranked;
  }

  /**
   * A question's pre-RoPE queries, [layers, tokens, heads·headDim], from prefilling it on top of the
   * sinks alone (in the answer cache, discarded after): the bare question (what retrieval scores
   * with) or its whole piece as the answer context holds it. Public for retrieval experiments
   * (bench/needle-retrieval-probe.ts); not part of the SDK.
   */
  async questionQueries(question: string, form: 'bare' | 'piece'): Promise<{ queries: Float32Array; tokens: number }> {
    this.prompt.questionIds(question); // the same refusals as ask
    return this.exclusive(() => this.captureQueries(question, form));
  }

  private async captureQueries(question: string, form: 'bare' | 'piece'): Promise<{ queries: Float32Array; tokens: number }> {
    const gpu = this.model.gpu;
    const t = this.model.config.text;
    let ids = form === 'bare' ? this.prompt.bareQuestionIds(question) : [];
    if (ids.length === 0) ids = this.prompt.questionIds(question);
    ids = ids.slice(0, this.options.maxQuestionTokens);
    const cache = this.answerCache;
    cache.reset();
    const capture = Tensor.empty(gpu, [t.numLayers, ids.length, t.numHeads * t.headDim], this.model.precision, 'question queries');
    try {
      const rec = new CommandRecorder(gpu, undefined, 'retrieval queries');
      cache.copyRowsFrom(rec, this.streamCache, 0, 0, this.sinkTokens);
      cache.truncate(this.sinkTokens);
      const clean = this.recordPiece(rec, cache, ids, null, capture);
      rec.submit();
      const queries = await capture.readFloat();
      clean();
      return { queries, tokens: ids.length };
    } finally {
      capture.destroy();
      cache.reset();
    }
  }

  stats(): EngineStats {
    const rowBytes = this.streamCache.rowBytes;
    const windowRows = this.streamCache.length - this.sinkTokens;
    return {
      framesIngested: this.nextIndex,
      windowFrames: this.window.length,
      windowBytes: 2 * this.meta.layers * windowRows * rowBytes,
      windowBackupBytes: this.window.reduce((n, w) => n + (w.backup?.payload.byteLength ?? 0), 0),
      framesLostToDeviceLoss: this.framesLost,
      ranking: rankingPath(),
      rankingThreads: this.store.rankingThreads,
      storeFrames: this.store.frames,
      storeBytes: this.store.bytes,
      storeSideBytes: this.store.sideBytes,
      storeRamBytes: this.store.ramBytes,
      storeSpilledFrames: this.store.spilledFrames,
      spillError: this.store.spillError?.message ?? null,
      gpuBytes: this.model.gpu.tensorBytes,
      gpuBuffers: this.model.gpu.tensorBuffers,
      stageMs: { ...this.stage },
      lastTimestampMs: this.lastTimestamp,
    };
  }

  /**
   * The frames seen from frame index `fromFrame` on (default: all), in time order: stored ones then
   * the window's. A UI that already shows the frames before its oldest 'window' one asks from there,
   * so each refresh costs the few new frames, not the whole stream's thumbnails.
   */
  timeline(fromFrame = 0): FrameSummary[] {
    if (!Number.isInteger(fromFrame) || fromFrame < 0) throw new InputError(`timeline: fromFrame must be a frame index ≥ 0, got ${fromFrame}`);
    return [
      ...this.store.infosFrom(fromFrame).map((b) => ({ frameIndex: b.index, timestampMs: b.timestampMs, where: 'memory' as const, thumbnail: b.thumbnail })),
      ...this.window.filter((w) => w.index >= fromFrame).map((w) => ({ frameIndex: w.index, timestampMs: w.timestampMs, where: 'window' as const, thumbnail: w.thumbnail })),
    ];
  }

  /** The whole memory as blocks: the store's, plus the window's frames packed the same way (they stay in the window). */
  memorySnapshot(): Promise<{ meta: StoreMeta; blocks: LazyFrameBlock[] }> {
    return this.exclusive(async () => {
      const blocks = this.store.lazyBlocks();
      for (const w of this.window) blocks.push(lazyBlock(await this.writer.write(this.streamCache, w.start, w.tokens, w)));
      return { meta: { ...this.meta }, blocks };
    });
  }

  /**
   * Replaces the memory of a fresh engine (no frame ingested) with saved blocks; the stream goes on
   * after the last of them. A memory made by another model or with other KV settings is refused.
   */
  restoreMemory(meta: StoreMeta, blocks: readonly (FrameBlock | LazyFrameBlock)[]): Promise<void> {
    return this.exclusive(async () => {
      if (this.nextIndex > 0 || this.store.frames > 0) throw new InputError('restoreMemory: the engine already holds frames; restore into a fresh engine');
      checkStoreMeta(meta, this.meta, (key, have, want) => `restoreMemory: the saved memory has ${key} ${have}, this engine ${want}`);
      const sorted = [...blocks].sort((a, b) => a.index - b.index);
      // every block is checked before any is added, so a bad one leaves the engine empty
      sorted.forEach((b, i) => {
        checkPayload(b);
        this.store.checkFits(b, i > 0 ? sorted[i - 1].index : null);
      });
      for (const b of sorted) this.store.add(b);
      const last = sorted[sorted.length - 1];
      if (last) {
        this.nextIndex = last.index + 1;
        this.lastTimestamp = last.timestampMs;
      }
    });
  }

  /** Frees the engine's GPU buffers (not the model's) after the calls already queued. */
  /** Frees what the engine holds on the GPU (its caches, encoder and K/V readers and writers); the memory store is not on it. */
  private destroyGpuResources(): void {
    this.streamCache.destroy();
    this.answerCache.destroy();
    this.encoder.destroy();
    this.writer.destroy();
    this.reader.destroy();
    this.backupWriter?.destroy();
  }

  dispose(): Promise<void> {
    if (this.disposed) return this.queue.idle();
    const done = this.exclusive(async () => {
      this.destroyGpuResources();
      if (this.handedOver) return;
      await this.store.settled();
      this.store.close();
      await this.spill?.destroy().catch(() => {});
    });
    this.disposed = true;
    return done;
  }
}

/** A float tensor's values as f16 bits (what the store keeps of a frame's input embeddings). */
async function f16Bits(t: Tensor): Promise<Uint16Array> {
  if (t.dtype === 'f16') return new Uint16Array(await readBuffer(t.gpu, t.buffer, 0, t.size * 2));
  return toF16Bits(await t.readFloat());
}
