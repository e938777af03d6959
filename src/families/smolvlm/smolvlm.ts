/**
 * SmolVLM end to end: a model folder (config, tokenizer, processor settings, chat template,
 * generation config, safetensors) loaded onto the GPU, and `generate` from decoded pixels + a
 * question to greedy tokens, the way transformers' SmolVLMProcessor + generate() do it:
 * chat template → placeholder expansion with the real tile layout → vision tower + connector on
 * every tile / frame → image features merged into the token embeddings → prefill → greedy decode.
 */
import { InputError, ModelLoadError } from '../../errors';
import { SerialQueue } from '../../serial-queue';
import { MODEL_LOAD_DEFAULTS } from '../../settings/index';
import type { GpuDevice } from '../../gpu/device';
import { CommandRecorder } from '../../gpu/recorder';
import { Tensor } from '../../gpu/tensor';
import { actDType, type Precision } from '../../kernels/common';
import { checkChatTemplate, findChatTemplate, renderChat, type ChatContent } from '../../model/chat-template';
import { Checkpoint } from '../../model/checkpoint';
import { checkManifest } from './manifest';
import { parseConfig, type SmolVlmConfig } from '../../model/config';
import { parseJsonObject } from '../../model/json-file';
import { Connector } from '../../model/connector';
import { eosTokenIds, generateGreedy } from '../../model/generate';
import { mergeImageFeatures } from '../../model/merge-image-features';
import { preprocessImages, preprocessVideoFrames, type PreprocessedImages, type RgbImage } from '../../model/preprocess';
import { parseProcessorConfig, type ProcessorSettings } from '../../model/processor-config';
import { buildPromptIds, type ImageGrid, type VideoPromptInfo } from '../../model/prompt';
import { readText, type ModelSource } from '../../model/source';
import type { FrameEncoder, GenerateRequest, GenerateResult, KvShape, ModelFolder, ModelLoadOptions, StreamLayout, VideoInput, VisionLanguageModel } from '../family';
import { openModelFolder } from '../model-folder';
import { SmolVlmFrameEncoder } from './frame-encoder';
import { modelKey } from './model-key';
import { StreamPrompt } from './stream-layout';
import { TextModel } from '../../model/text-model';
import { SmolVlmTokenizer } from '../../model/tokenizer';
import { copyRegion, VisionTower } from '../../model/vision';

/** SmolVlm.load's options (every family's: ModelLoadOptions). */
export type SmolVlmLoadOptions = ModelLoadOptions;
export type { GenerateRequest, GenerateResult, VideoInput };

async function optionalText(source: ModelSource, name: string): Promise<string | undefined> {
  return (await readText(source, name)) ?? undefined;
}

type Disposable = { destroy(): void };

export class SmolVlm implements VisionLanguageModel {
  /** Serializes generate(): the towers' workspaces are shared between calls. */
  private readonly queue = new SerialQueue();
  private disposed = false;

  private constructor(
    readonly gpu: GpuDevice,
    readonly config: SmolVlmConfig,
    readonly processor: ProcessorSettings,
    readonly tokenizer: SmolVlmTokenizer,
    /** The model's own chat template; undefined → transformers' default. */
    readonly chatTemplate: string | undefined,
    readonly eosTokenIds: readonly number[],
    readonly precision: Precision,
    /** The networks, for engines that drive them step by step (src/engine). */
    readonly vision: VisionTower,
    readonly connector: Connector,
    readonly text: TextModel,
  ) {}

  get kvShape(): KvShape {
    const t = this.config.text;
    return { layers: t.numLayers, kvHeads: t.numKvHeads, headDim: t.headDim, queryHeads: t.numHeads, dtype: this.precision };
  }

  get videoSampling(): { fps: number; maxFrames: number } {
    return this.processor.video;
  }

  get key(): string {
    return modelKey(this.config);
  }

  streamLayout(): StreamLayout {
    return new StreamPrompt(this.tokenizer, this.processor.imageSeqLen);
  }

  createFrameEncoder(resize: 'video' | 'image'): FrameEncoder {
    return new SmolVlmFrameEncoder(this, resize);
  }

  /**
   * Reads a model folder and uploads the weights. Missing / malformed files → ModelLoadError naming
   * the file; a model this runtime does not run → UnsupportedModelError.
   */
  static async load(gpu: GpuDevice, source: ModelSource, options: SmolVlmLoadOptions = {}): Promise<SmolVlm> {
    return SmolVlm.loadFolder(gpu, await openModelFolder(source, options.onProgress), options);
  }

  /** load's work once config.json is read (the family registry reads it first to pick the family). */
  static async loadFolder(gpu: GpuDevice, folder: ModelFolder, options: SmolVlmLoadOptions = {}): Promise<SmolVlm> {
    const { source, progress } = folder;
    const config = parseConfig(folder.configText);

    const [tokenizerJson, tokenizerConfig, processorConfig, preprocessorConfig, chatTemplateJinja, chatTemplateJson, generationConfig] = await Promise.all([
      optionalText(source, 'tokenizer.json'),
      optionalText(source, 'tokenizer_config.json'),
      optionalText(source, 'processor_config.json'),
      optionalText(source, 'preprocessor_config.json'),
      optionalText(source, 'chat_template.jinja'),
      optionalText(source, 'chat_template.json'),
      optionalText(source, 'generation_config.json'),
    ]);
    if (tokenizerJson === undefined) throw new ModelLoadError('tokenizer.json', `not found in ${source.location}`);
    const tokenizer = SmolVlmTokenizer.fromJson(tokenizerJson, tokenizerConfig);
    tokenizer.assertMatchesConfig(config);
    const processor = parseProcessorConfig({ processorConfig, preprocessorConfig }, config);
    const chatTemplate = findChatTemplate({ chatTemplateJinja, chatTemplateJson, processorConfig, tokenizerConfig });
    checkChatTemplate(chatTemplate);
    // size and depth bounded (and a named error) before eosTokenIds parses it again for its one field
    if (generationConfig !== undefined) parseJsonObject('generation_config.json', generationConfig);
    let eos: number[];
    try {
      eos = eosTokenIds(generationConfig ?? null);
    } catch (cause) {
      throw new ModelLoadError('generation_config.json', 'not valid JSON', { cause });
    }
    // no generation_config.json (or no eos in it): the tokenizer's end of utterance
    if (eos.length === 0) eos = [...tokenizer.stopIds];

    const checkpoint = await Checkpoint.open(source, { onTensorRead: progress.tensorRead, releaseFilesOnceRead: true });
    // every tensor present with its config shape before anything is uploaded
    checkManifest(config, checkpoint);
    const format = options.weightFormat ?? MODEL_LOAD_DEFAULTS.weightFormat;
    const precision = options.precision ?? MODEL_LOAD_DEFAULTS.precision;
    const loaded: Disposable[] = [];
    try {
      const vision = VisionTower.load(gpu, checkpoint, config, { format, precision });
      loaded.push(vision);
      const connector = Connector.load(gpu, checkpoint, config, { format });
      loaded.push(connector);
      const text = TextModel.load(gpu, checkpoint, config, { weightFormat: format, precision });
      progress.done();
      return new SmolVlm(gpu, config, processor, tokenizer, chatTemplate, eos, precision, vision, connector, text);
    } catch (e) {
      loaded.forEach((x) => x.destroy());
      throw e;
    }
  }

  /**
   * One user turn, answered greedily. The turn is built as the model card does: the images first,
   * then the video, then the text, in one user message. Calls are run one after another.
   */
  generate(request: GenerateRequest): Promise<GenerateResult> {
    if (this.disposed) return Promise.reject(new InputError('this SmolVlm was disposed'));
    return this.queue.run(() => this.run(request));
  }

  private async run(request: GenerateRequest): Promise<GenerateResult> {
    const images = request.images ?? [];
    const video = request.video;
    const maxNewTokens = request.maxNewTokens ?? 64;
    if (typeof request.text !== 'string') throw new InputError('generate: text must be a string');
    if (video && (!Array.isArray(video.frames) || video.frames.length === 0)) throw new InputError('generate: a video needs at least one frame');
    const gpu = this.gpu;
    const fps = this.processor.video.fps;

    const content: ChatContent[] = [...images.map(() => ({ type: 'image' as const })), ...(video ? [{ type: 'video' as const }] : []), { type: 'text', text: request.text }];
    const rendered = renderChat(this.chatTemplate, [{ role: 'user', content }], { addGenerationPrompt: true });

    const temporaries: Disposable[] = [];
    const keep = <T extends Disposable>(x: T): T => (temporaries.push(x), x);
    try {
      // pixels: the images' tiles in order, then the video's frames (the placeholders' order)
      const parts: PreprocessedImages[] = [];
      let grids: ImageGrid[] = [];
      if (images.length > 0) {
        const p = preprocessImages(gpu, images, this.processor.image);
        keep(p.pixelValues);
        parts.push(p);
        grids = p.images.map((im) => ({ rows: im.rows, cols: im.cols }));
      }
      const videos: VideoPromptInfo[] = [];
      if (video) {
        const n = video.frames.length;
        const timestamps = video.timestampsSec ?? Array.from({ length: n }, (_, i) => i / fps);
        if (timestamps.length !== n) throw new InputError(`generate: ${n} frames but ${timestamps.length} timestamps`);
        // they are printed into the prompt (`Frame from MM:SS`): NaN or Infinity would print as such
        if (!timestamps.every((t) => typeof t === 'number' && Number.isFinite(t) && t >= 0)) throw new InputError('generate: video timestamps must be finite seconds ≥ 0');
        if (video.durationSec !== undefined && !(Number.isFinite(video.durationSec) && video.durationSec >= 0)) {
          throw new InputError(`generate: video durationSec must be finite seconds ≥ 0, not ${video.durationSec}`);
        }
        const p =
          video.resize === 'image'
            ? preprocessImages(gpu, video.frames, this.processor.image, { split: false })
            : preprocessVideoFrames(gpu, video.frames, this.processor.video);
        keep(p.pixelValues);
        parts.push(p);
        videos.push({ timestamps, durationSeconds: video.durationSec ?? n / fps });
      }
      const prompt = buildPromptIds(this.tokenizer, rendered, { images: grids, videos, imageSeqLen: this.processor.imageSeqLen });
      const ids = prompt.ids;
      const T = ids.length;
      if (T + maxNewTokens > this.config.text.maxPositions) {
        throw new InputError(`generate: ${T} prompt tokens + ${maxNewTokens} new exceed the model's ${this.config.text.maxPositions} positions`);
      }

      const rec = new CommandRecorder(gpu, undefined, 'smolvlm prompt');
      let features: Tensor | null = null;
      const tiles = parts.reduce((n, p) => n + p.pixelValues.shape[0], 0);
      if (tiles > 0) {
        let pixels = parts[0].pixelValues;
        if (parts.length > 1) {
          pixels = keep(Tensor.empty(gpu, [tiles, ...parts[0].pixelValues.shape.slice(1)], 'f32', 'pixel values'));
          let at = 0;
          for (const p of parts) {
            copyRegion(rec, p.pixelValues, 0, pixels, at, p.pixelValues.byteLength);
            at += p.pixelValues.byteLength;
          }
        }
        const visionOut = keep(this.vision.createOutput(tiles));
        features = keep(this.connector.createOutput(tiles, actDType(this.precision)));
        this.vision.forward(rec, pixels, visionOut);
        this.connector.forward(rec, visionOut, features);
      }
      const idTensor = keep(Tensor.from(gpu, ids, [T], 'u32', 'prompt ids'));
      const embeddings = keep(this.text.createEmbeddings(T));
      mergeImageFeatures(rec, this.text, ids, idTensor, features, this.config.imageTokenId, embeddings);
      rec.submit();

      const cache = keep(this.text.createCache(Math.max(1, T + maxNewTokens)));
      const tokens = await generateGreedy(this.text, cache, embeddings, { maxNewTokens, eosTokenIds: this.eosTokenIds, onToken: request.onToken, sampling: request.sampling });
      return { tokens, text: this.tokenizer.decode(tokens, { skipSpecialTokens: true }), prompt: { text: prompt.text, ids } };
    } finally {
      // safe after submit: WebGPU frees the memory once the submitted work is done
      temporaries.forEach((t) => t.destroy());
    }
  }

  /**
   * Frees every GPU buffer of the model once the generate() calls already queued are done; later
   * calls are refused at once.
   */
  dispose(): Promise<void> {
    if (this.disposed) return this.queue.idle();
    this.disposed = true;
    return this.queue.run(() => {
      this.vision.destroy();
      this.connector.destroy();
      this.text.destroy();
    });
  }
}
