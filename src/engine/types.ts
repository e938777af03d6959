import type { KvStoreBits, Thumbnail } from '../memory/frame-block';
import type { SamplingSettings } from '../model/generate';
import type { RetrievalPolicyName } from '../memory/retrieval/registry';
import type { RankingPath } from '../memory/simd-dot';

export interface StreamEngineOptions {
  /** Frames kept at full precision on the GPU after the sinks (the recent window). Default 16. */
  windowFrames?: number;
  /** How evicted frames are stored. Default 4. */
  kvBits?: KvStoreBits;
  /**
   * The K/V codec evicted frames are stored with, by id (memory/codecs/registry.ts: 'raw',
   * 'kivi-8', 'kivi-4', 'kivi-2', …); when given, it decides and `kvBits` must be its bits or
   * absent. Default: the codec `kvBits` names.
   */
  kvCodec?: string;
  /** Frames retrieved from memory per question (the window is always added). Default 8. */
  topK?: number;
  /** Longest question piece accepted, in tokens. Default 256. */
  maxQuestionTokens?: number;
  /** Longest answer, in tokens (also the default of ask's maxNewTokens). Default 128. */
  maxAnswerTokens?: number;
  /**
   * The frames' resize. 'video' (default) is SmolVLMVideoProcessor's (longest edge, then the square
   * tile); 'image' the image processor's without splitting (how the parity fixtures were built).
   */
  frameResize?: 'video' | 'image';
  /** Longest edge of the stored thumbnails, px. Default 96. */
  thumbnailEdge?: number;
  /**
   * K/V payload bytes the memory store keeps in RAM; beyond it the oldest frames' payloads move to
   * the spill the engine was created with (StreamEngine.create's `host.spill`). Default: no limit.
   */
  ramBudgetBytes?: number;
  /**
   * The decoder layer whose queries and keys rank stored frames for a question (retriever.ts).
   * Default 0: on the needle model's development streams layer 0 found the needle's frame among the
   * top 8 for 100 % of questions, all layers together for 93 %, the deeper layers alone for 72–85 %
   * (bench/needle-retrieval-probe.ts, tools/needle/README.md). Measure it again for other models.
   */
  retrievalLayer?: number;
  /**
   * How a question ranks stored frames: a retrieval policy by name (memory/retrieval/registry.ts).
   * 'attention' (default): the attention mass the question's queries put on each frame's keys at
   * `retrievalLayer`. 'key-summary': ReKV's cosine of the mean question query and each frame's mean
   * key, over every layer — 57 % recall@8 against 'attention''s 100 % on the needle model's
   * development streams; kept to compare on other models, and it needs no per-token keys in RAM.
   * 'max-sim': ColBERT-style late interaction at `retrievalLayer`, each question token's best
   * matching frame token (memory/retrieval/max-sim-policy.ts).
   */
  retrieval?: RetrievalPolicyName;
  /**
   * How a question's context is built. 'reprefill' (default): the retrieved frames' and the window's
   * input embeddings (kept for every frame: f16, in RAM) are prefilled afresh in one pass, so the
   * context is what the model would see had it been shown just those frames — the layout it was
   * trained on. 'restore': ReKV's, the frames' K/V as computed when they arrived, restored
   * (dequantized) next to the window's; no prefill at question time, no embeddings kept, but the
   * needle model then reads colours and not times from memory (tools/needle/README.md).
   */
  answerContext?: 'reprefill' | 'restore';
  /**
   * Keep a raw copy of each window frame's K/V rows in RAM (read back once, after its prefill), so
   * that a lost GPU device loses no frame: the window is rebuilt from them on the new device,
   * exactly. Costs windowFrames × a frame's raw K/V in RAM (stats().windowBackupBytes) and one read
   * back per frame. Default false here (the CLI and benchmarks do not recover); the SDK's worker,
   * which recovers, turns it on unless told otherwise.
   */
  windowBackup?: boolean;
}

/** A frame an answer used. */
export interface Moment {
  frameIndex: number;
  timestampMs: number;
  /** Retrieval score (the question's mean log attention mass on the frame, retriever.ts); null for window frames, which are always used. */
  score: number | null;
  from: 'memory' | 'window';
}

export type AskEvent =
  /** First: the frames the answer sees, in time order. */
  | { type: 'moments'; moments: Moment[] }
  /** Then one per generated token; `text` is the new text it adds (may be '' mid-character). */
  | { type: 'token'; id: number; text: string }
  /** Last. */
  | { type: 'done'; tokens: number[]; text: string; timing: AskTiming; firstLogits?: Float32Array };

export interface AskTiming {
  /** Question asked → first token read back. */
  firstTokenMs: number;
  totalMs: number;
  /** Question asked → context ready (the parts below, plus copying sinks and window). */
  retrieveMs: number;
  /** Of retrieveMs: the question's queries (a prefill on the sinks, read back). */
  queryMs: number;
  /** Of retrieveMs: ranking the stored frames on the host. */
  rankMs: number;
  /** Of retrieveMs: the chosen frames' K/V uploaded and dequantized into the context. */
  restoreMs: number;
  tokensPerSecond: number;
}

export interface AskOptions {
  /** Frames retrieved from memory (at most the engine's setting). */
  topK?: number;
  /** Sample the answer (temperature, top-k, top-p, seed) instead of greedy decoding. */
  sampling?: SamplingSettings;
  maxNewTokens?: number;
  /**
   * Also return the logits that chose the first answer token (f32 [vocab]) in 'done'; costs a
   * second prefill of the question. For measuring KV quantization against full precision.
   */
  withLogits?: boolean;
  /** This answer's context (StreamEngineOptions.answerContext); 'reprefill' needs an engine that keeps embeddings. */
  answerContext?: 'reprefill' | 'restore';
}

export interface IngestResult {
  frameIndex: number;
  timestampMs: number;
  /** The frame this ingest moved from the window into the store, if any. */
  evictedFrameIndex: number | null;
  ms: { encode: number; prefill: number; evict: number; total: number };
}

export interface FrameSummary {
  frameIndex: number;
  timestampMs: number;
  where: 'memory' | 'window';
  thumbnail: Thumbnail;
}

export interface EngineStats {
  framesIngested: number;
  windowFrames: number;
  windowBytes: number;
  /** RAM held by the window frames' K/V backups (StreamEngineOptions.windowBackup). */
  windowBackupBytes: number;
  /** Frames lost with a GPU device: window frames without a backup at the moment of a loss. */
  framesLostToDeviceLoss: number;
  /**
   * How stored frames are ranked on the host: 'wasm-simd' (WebAssembly SIMD), or 'js' (plain loops,
   * several times slower on long streams) where WebAssembly SIMD is missing or a Content-Security-
   * Policy without 'wasm-unsafe-eval' forbids compiling it.
   */
  ranking: RankingPath;
  /**
   * Worker threads ranking stored frames in parallel, each keeping a share of the frames' keys
   * (0: the engine's own thread; the browser SDK starts them, memory/ranking-shards.ts).
   */
  rankingThreads: number;
  storeFrames: number;
  /** The memory store's bytes: payloads, key summaries (as unit summaries, f32) and thumbnails. */
  storeBytes: number;
  /**
   * RAM beside storeBytes: the retrieval policy's index (the per-token keys 'attention' and
   * 'max-sim' rank with, int8; the first-pass vectors of 'key-summary', f32) and, with
   * answerContext 'reprefill', the stored frames' input embeddings (f16); never spilled or saved.
   */
  storeSideBytes: number;
  /** Of storeBytes, those in RAM (the rest are payloads on the spill). */
  storeRamBytes: number;
  /** Stored frames whose payload is on the spill. */
  storeSpilledFrames: number;
  /** Why the store stopped spilling (its payloads stay in RAM), or null. */
  spillError: string | null;
  /** Bytes of every GPU buffer the engine and model hold. */
  gpuBytes: number;
  /** How many tensor buffers (those gpuBytes counts) are alive on the device. */
  gpuBuffers: number;
  /** Mean milliseconds per stage over the last frames (wall time, GPU work awaited). */
  stageMs: { encode: number; prefill: number; evict: number };
  lastTimestampMs: number | null;
}
