/**
 * The model-family seam. A family (SmolVLM / Idefics3 today; Qwen2.5-VL, Gemma 3n tomorrow) is one
 * folder under src/families/ that supplies everything model-specific: its config parsing, tensor
 * manifest, processor, prompt layouts (one-shot and streaming), frame encoder, text decoder and KV
 * shape. The engine, the worker, the SDK and the CLI see only these interfaces; the registry
 * (registry.ts) picks the family by config.json's `model_type`.
 */
import type { GpuDevice } from '../gpu/device';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import type { Precision } from '../kernels/common';
import type { WeightFormat } from '../kernels/weights';
import type { TextConfig } from '../model/config';
import type { SamplingSettings } from '../model/generate';
import type { RgbImage } from '../model/preprocess';
import type { LoadProgressCallback, LoadProgressTracker } from '../model/progress';
import type { ModelSource } from '../model/source';
import type { TextModel } from '../model/text-model';

export interface ModelLoadOptions {
  /** Storage of the Linear weights (vision, connector, text). Default f16 (half the memory of f32; f32 is the exact-parity setting). */
  weightFormat?: WeightFormat;
  /** Activation precision. Default f32 (f16 needs shader-f16). */
  precision?: Precision;
  /** Download and upload progress in bytes, per file and across files, then 'done' (see LoadProgress). */
  onProgress?: LoadProgressCallback;
}

/** A model folder with config.json already read (the registry reads it to pick the family). */
export interface ModelFolder {
  /** The folder, every read reporting to `progress`. */
  source: ModelSource;
  configText: string;
  progress: LoadProgressTracker;
}

/** The K/V rows a decoder layer caches: what memory blocks, caches and saved memories are sized by. */
export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Query heads (retrieval captures the queries: [layers, tokens, queryHeads·headDim]). */
  queryHeads: number;
  dtype: Precision;
}

/** What every family's config tells the engine: the decoder's sizes and the image placeholder. */
export interface ModelConfig {
  modelType: string;
  imageTokenId: number;
  text: TextConfig;
}

/** Text ↔ token ids (the family's tokenizer). */
export interface TokenText {
  encode(text: string): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

/**
 * A live stream's token layout, cut into pieces tokenized one by one: the prefix (the attention
 * sinks, never evicted), one piece per frame, and the question piece that ends in the assistant turn.
 */
export interface StreamLayout {
  prefixIds(): number[];
  /** A frame's piece at `timestampMs`, its image placeholders counted. */
  frameIds(timestampMs: number): number[];
  /** The question piece; refuses empty questions and typed image placeholders (InputError). */
  questionIds(question: string): number[];
  /** The bare question's ids (what retrieval scores with). */
  bareQuestionIds(question: string): number[];
}

/** One frame → its image embeddings in the decoder's activation type, buffers reused frame after frame. */
export interface FrameEncoder {
  /** [1·imageTokens, hidden]: written by each `record`. */
  readonly features: Tensor;
  /** Records the encoding of `frame` into `features`; returns a cleanup to run after the submit. */
  record(rec: CommandRecorder, frame: RgbImage): () => void;
  destroy(): void;
}

export interface VideoInput {
  /** The sampled frames, in time order (sampling is the caller's: these are all used). */
  frames: RgbImage[];
  /** Time of each frame in seconds; default i / video fps (the processor's sampling rate). */
  timestampsSec?: number[];
  /** Whole video length in seconds, shown in the prompt; default frames / fps. */
  durationSec?: number;
  /**
   * Which resize the frames get. 'video' (default) is the family's video processor's; 'image' runs
   * them through the image processor unsplit (how SmolVLM's parity fixtures' video case was built).
   */
  resize?: 'video' | 'image';
}

export interface GenerateRequest {
  images?: RgbImage[];
  video?: VideoInput;
  text: string;
  /** Default 64. */
  maxNewTokens?: number;
  onToken?: (id: number) => void;
  /** Sample (temperature, top-k, top-p, seed) instead of greedy decoding. */
  sampling?: SamplingSettings;
}

export interface GenerateResult {
  /** New token ids; an eos token that stopped generation is included (as transformers does). */
  tokens: number[];
  /** The tokens decoded, special tokens skipped. */
  text: string;
  /** The prompt exactly as fed to the model: expanded text and its token ids. */
  prompt: { text: string; ids: number[] };
}

/** A loaded model of some family, as the engine, worker, SDK and CLI use it. */
export interface VisionLanguageModel {
  readonly gpu: GpuDevice;
  readonly config: ModelConfig;
  /** Activation precision (the decoder's and the K/V cache's dtype). */
  readonly precision: Precision;
  readonly tokenizer: TokenText;
  /** The text decoder the engine prefills and decodes with. */
  readonly text: TextModel;
  readonly kvShape: KvShape;
  readonly eosTokenIds: readonly number[];
  /** How a video is sampled for `generate` (frames per second, most frames). */
  readonly videoSampling: { fps: number; maxFrames: number };
  /** A fingerprint of the config; saved memories carry it and are refused by another model. */
  readonly key: string;
  streamLayout(): StreamLayout;
  createFrameEncoder(resize: 'video' | 'image'): FrameEncoder;
  /** One user turn (images, video, text) answered; calls run one after another. */
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Frees the model's GPU buffers once queued calls are done. */
  dispose(): Promise<void>;
}

/**
 * A model family. `parseConfig` and `expectedTensors` are exposed for tools and tests (a config
 * checked without a GPU, a checkpoint checked before upload); `load` does both itself.
 */
export interface ModelFamily<Config extends ModelConfig = ModelConfig> {
  /** Its name in messages and in ARCHITECTURE.md. */
  readonly name: string;
  /** config.json `model_type` values this family runs. */
  readonly modelTypes: readonly string[];
  parseConfig(text: string, file?: string): Config;
  /** Every tensor the checkpoint must hold, with the shape the config implies. */
  expectedTensors(config: Config): Map<string, number[]>;
  load(gpu: GpuDevice, folder: ModelFolder, options: ModelLoadOptions): Promise<VisionLanguageModel>;
}
