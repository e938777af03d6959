/**
 * The largest values streamvlm accepts from any file it reads (model folders, images, videos,
 * saved memories). Every count and size read from a file is checked against these before a loop or
 * an allocation is sized by it, so a hostile or corrupt file is refused in milliseconds with a typed
 * error instead of spinning or allocating until the tab or process dies (issue #14).
 *
 * Each limit is far above what any SmolVLM / SmolVLM2 checkpoint (256M to 2.2B) or a real camera
 * needs, and low enough that the work or memory it allows stays in the hundreds of MB. A leaf module
 * (imports nothing), like errors.ts, so every layer can use it.
 */
export const LIMITS = {
  /** JSON nesting (objects and arrays); model files nest 4–6 deep. */
  jsonDepth: 64,
  /** config.json, generation_config.json, processor / preprocessor / tokenizer_config.json, shard index. */
  smallJsonBytes: 8 << 20,
  /** tokenizer.json (SmolVLM2's is 3.5 MB; the largest hub tokenizers ~ 20 MB). */
  tokenizerJsonBytes: 64 << 20,
  /** Vocabulary entries, merges and added tokens of a tokenizer (SmolVLM2: 49 280). */
  vocabulary: 1 << 20,
  merges: 2 << 20,
  addedTokens: 1 << 16,
  /** A tokenizer regex (pre-tokenizer / normalizer pattern) in characters. */
  regexChars: 4096,
  /** Unbounded repetitions in one alternative of a tokenizer regex (Llama 3's has 2, GPT-2's 1). */
  regexUnboundedPerBranch: 2,
  /** A chat template's size in characters (the hub's SmolVLM2 template is < 1 KB). */
  templateChars: 256 << 10,
  /** One render of a chat template: interpreter steps, range() elements, wall time, output chars. */
  templateSteps: 2_000_000,
  templateRangeElements: 100_000,
  templateMs: 2_000,
  templateOutputChars: 4 << 20,
  /**
   * Text given to the tokenizer in one call (a question, a rendered prompt): 64 K characters is
   * ~16 K tokens, twice SmolVLM2's context, and bounds what a pre-tokenizer regex can cost.
   */
  encodeChars: 1 << 16,

  /** config.json */
  layers: 256,
  hiddenSize: 16384,
  intermediateSize: 131072,
  heads: 256,
  headDim: 1024,
  vocabSize: 1 << 20,
  maxPositions: 1 << 20,
  imageSize: 4096,
  channels: 4,
  scaleFactor: 16,
  /** Weights a config may imply in all (f32 elements); SmolVLM2-2.2B has 2.2e9. */
  parameters: 16e9,

  /** Processor settings. */
  resizeEdge: 16384,
  videoFrames: 4096,
  fps: 1000,
  imageSeqLen: 16384,

  /** Checkpoints. */
  shards: 4096,
  tensors: 1 << 20,
  tensorRank: 8,
  tensorDim: 2 ** 32,

  /** Images and video frames (PNG IHDR, JPEG SOF, y4m header) before any pixel is decoded. */
  imageSide: 16384,
  /** 50 MP: 200 MB of RGBA, and a 48 MP phone photo still opens. */
  imagePixels: 50_000_000,
  y4mFrames: 10_000_000,
  /** An image file's bytes (a 50 MP PNG stored uncompressed is ~ 200 MB). */
  imageFileBytes: 256 << 20,

  /** Saved memory (persist.ts). */
  memoryLayers: 256,
  memoryChannels: 65536,
  memoryTokens: 65536,
  memoryKvHeads: 256,
  thumbnailSide: 4096,
  memoryMetaBytes: 64 << 10,
  memoryModelKeyChars: 4096,
  memoryIndex: 2 ** 31 - 1,
  /** A memory index file: 2.7 M entries of 24 bytes, a month of stream at 1 fps. */
  memoryIndexBytes: 64 << 20,
  /** One frame block file (SmolVLM2-2.2B raw f32 frames are ~ 30 MB). */
  memoryBlockFileBytes: 256 << 20,
} as const;
