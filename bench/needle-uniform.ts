// The 'uniform8' baseline: what single-request browser runtimes do today — per question, a few
// frames sampled evenly over the whole stream, encoded again and answered in one prompt.
import { StreamPrompt } from '../src/families/smolvlm/stream-layout';
import { CommandRecorder } from '../src/gpu/recorder';
import { Tensor } from '../src/gpu/tensor';
import { actDType } from '../src/kernels/common';
import { generateGreedy } from '../src/model/generate';
import { mergeImageFeatures } from '../src/model/merge-image-features';
import { preprocessVideoFrames, type RgbImage } from '../src/model/preprocess';
import type { SmolVlm } from '../src/families/smolvlm/smolvlm';

/**
 * `count` frame indices spread evenly over `frames`: the centres of equal parts (as
 * bench/stream-baselines.ts's re-encode baseline), so the first and last frames are not favoured.
 */
export function uniformPicks(frames: number, count: number): number[] {
  const n = Math.min(count, frames);
  return Array.from({ length: n }, (_, i) => Math.floor(((i + 0.5) * frames) / n));
}

export interface OnePromptAnswer {
  text: string;
  /** From the first pixel upload to the first answer token read back (encoding included). */
  firstTokenMs: number;
  totalMs: number;
}

/**
 * Answers `question` from `images` in one prompt laid out as the streaming engine's (the layout
 * the model was trained on, src/families/smolvlm/stream-layout.ts): prefix, one `Frame from MM:SS:` piece
 * per frame at its true time, the question piece. The frames are preprocessed with the engine's
 * video resize, encoded in one vision pass and prefilled with the text in one forward.
 */
export async function answerOnePrompt(model: SmolVlm, images: RgbImage[], timestampsMs: number[], question: string, maxNewTokens: number): Promise<OnePromptAnswer> {
  const gpu = model.gpu;
  const text = model.text;
  const prompt = new StreamPrompt(model.tokenizer, model.processor.imageSeqLen);
  const ids = [...prompt.prefixIds(), ...timestampsMs.flatMap((ms) => prompt.frameIds(ms)), ...prompt.questionIds(question)];
  const t0 = performance.now();
  const pre = preprocessVideoFrames(gpu, images, model.processor.video);
  const n = pre.pixelValues.shape[0];
  const visionOut = model.vision.createOutput(n);
  const features = model.connector.createOutput(n, actDType(model.precision));
  const idTensor = Tensor.from(gpu, ids, [ids.length], 'u32', 'prompt ids');
  const embeddings = text.createEmbeddings(ids.length);
  const cache = text.createCache(ids.length + maxNewTokens);
  try {
    const rec = new CommandRecorder(gpu, undefined, 'uniform prompt');
    model.vision.forward(rec, pre.pixelValues, visionOut);
    model.connector.forward(rec, visionOut, features);
    mergeImageFeatures(rec, text, ids, idTensor, features, model.config.imageTokenId, embeddings);
    rec.submit();
    let firstTokenMs = 0;
    const tokens = await generateGreedy(text, cache, embeddings, {
      maxNewTokens,
      eosTokenIds: model.eosTokenIds,
      onToken: () => (firstTokenMs ||= performance.now() - t0),
    });
    return { text: model.tokenizer.decode(tokens, { skipSpecialTokens: true }), firstTokenMs, totalMs: performance.now() - t0 };
  } finally {
    // safe after submit: WebGPU frees the memory once the submitted work is done
    [pre.pixelValues, visionOut, features, idTensor, embeddings].forEach((t) => t.destroy());
    cache.destroy();
  }
}
