// A whole SmolVLM2 model folder in memory at the published 256M / 500M shapes with random weights,
// so the streaming engine (which needs the tokenizer, processor settings and generation config, not
// only the weights) runs at real sizes without the real files (no downloads here or on the GPU
// machine). The tokenizer is the tiny fixture's BPE with its special tokens moved to the real ids
// (spec §2: <global-img> 49152, <fake_token_around_image> 49189, <image> 49190,
// <end_of_utterance> 49279) and filler entries up to the real vocabulary, so every id a random head
// picks decodes. Its text pieces tokenize like SmolLM2's where it matters for cost: `Frame from
// 00:00:` is one token per digit and colon.
import type { SmolVlmConfig } from '../src/model/config';
import { MemorySource, randomSafetensors, smolVlmTensors } from './random-checkpoint';

/** The real layout relative to image_token_id (49190) and the vocabulary's end (49280). */
function specialIds(imageTokenId: number, vocabSize: number): Record<string, number> {
  return {
    '<global-img>': imageTokenId - 38,
    '<fake_token_around_image>': imageTokenId - 1,
    '<image>': imageTokenId,
    '<end_of_utterance>': vocabSize - 1,
  };
}

interface AddedToken {
  id: number;
  content: string;
  [k: string]: unknown;
}

/** `fixtureTokenizer`: the text of tools/fixtures/tiny-gqa/tokenizer.json (read by the caller: file or fetch). */
export function syntheticTokenizerJson(imageTokenId: number, vocabSize: number, fixtureTokenizer: string): string {
  const tok = JSON.parse(fixtureTokenizer) as { added_tokens: AddedToken[]; model: { vocab: Record<string, number> } };
  const ids = specialIds(imageTokenId, vocabSize);
  let nextRowCol = ids['<global-img>'] + 1; // <row_r_col_c> sit between <global-img> and <fake_token_around_image>
  for (const t of tok.added_tokens) {
    if (t.id <= 2) continue; // <|endoftext|>, <|im_start|>, <|im_end|> keep 0, 1, 2 as in SmolLM2
    t.id = ids[t.content] ?? nextRowCol++;
  }
  const used = new Set<number>([...Object.values(tok.model.vocab), ...tok.added_tokens.map((t) => t.id)]);
  for (let id = 0; id < vocabSize; id++) if (!used.has(id)) tok.model.vocab[`<filler_${id}>`] = id;
  return JSON.stringify(tok);
}

/** SmolVLM2's processor settings (spec §4–5): 512 px tiles, 2048 longest edge (4 tiles), 64 tokens per tile, video at the tile size. */
export function syntheticProcessorConfig(imageSeqLen: number, tile: number): string {
  const norm = { do_convert_rgb: true, do_normalize: true, do_rescale: true, do_resize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], resample: 1, rescale_factor: 1 / 255 };
  return JSON.stringify({
    image_processor: { ...norm, do_image_splitting: true, max_image_size: { longest_edge: tile }, size: { longest_edge: 4 * tile } },
    image_seq_len: imageSeqLen,
    video_processor: { ...norm, fps: 1, max_image_size: { longest_edge: tile }, size: { longest_edge: tile }, video_sampling: { fps: 1, max_frames: 64, video_size: { longest_edge: tile } } },
  });
}

/** The in-memory folder: config.json (as given), random F16 weights, tokenizer, processor, generation config. */
export function syntheticModelSource(configJson: Record<string, unknown>, config: SmolVlmConfig, fixtureTokenizer: string, options: { std?: number; seed?: number } = {}): { source: MemorySource; fileBytes: number } {
  const weights = randomSafetensors(smolVlmTensors(config), options);
  const enc = (s: string) => new TextEncoder().encode(s);
  return {
    source: new MemorySource({
      'config.json': enc(JSON.stringify(configJson)),
      'model.safetensors': weights,
      'tokenizer.json': enc(syntheticTokenizerJson(config.imageTokenId, config.text.vocabSize, fixtureTokenizer)),
      'processor_config.json': enc(syntheticProcessorConfig(config.imageSeqLen, config.vision.imageSize)),
      'generation_config.json': enc(JSON.stringify({ eos_token_id: config.text.vocabSize - 1 })),
    }),
    fileBytes: weights.byteLength,
  };
}
