// The streaming benchmarks' two baselines, shared by Node (stream-node.ts) and Chromium
// (browser-page.ts ?baselines) so both hosts measure them the same way in the same run:
// - full KV: every frame's K/V kept on the GPU at full precision, no eviction;
// - re-encode: at question time, encode 8 frames sampled over the stream (what single-request
//   browser runtimes do).
import { StreamPrompt } from '../src/families/smolvlm/stream-layout';
import type { GpuDevice } from '../src/gpu/device';
import { CommandRecorder } from '../src/gpu/recorder';
import { Tensor } from '../src/gpu/tensor';
import { generateGreedy, positionTensor } from '../src/model/generate';
import type { RgbImage } from '../src/model/preprocess';
import type { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { median, QUESTIONS } from './stream-common';

/** Cache rows the full-KV baseline needs for `frames` frames (its model's max positions must cover them). */
export const fullKvPositions = (frames: number) => 100 + frames * 90 + 512;

/**
 * The full-KV baseline's question at each stream length, without ingesting the stream: a cache of
 * sinks + frames·tokens rows of random K/V (attention's cost depends on the row count, not the
 * values), copied to a second cache as the engine's ask does, then the question prefilled and the
 * answer decoded on top. A frame's prefill on top of the full cache is the ingest cost beyond the
 * vision tower (constant). An hour of real full-attention ingest does not fit a benchmark run
 * (its frame prefill alone passes 400 ms); `sinkTokens` is the engine's prefix length.
 */
export async function fullKvFill(gpu: GpuDevice, model: SmolVlm, sinkTokens: number, minutes: number[], answerTokens: number, log: (line: string) => void) {
  const prompt = new StreamPrompt(model.tokenizer, model.processor.imageSeqLen);
  const frameTokens = prompt.frameIds(61_000).length;
  const text = model.text;
  const rows = [];
  for (const m of minutes) {
    const n = Math.round(m * 60);
    const filled = sinkTokens + n * frameTokens;
    const capacity = filled + 256;
    const stream = text.createCache(capacity);
    const answer = text.createCache(capacity);
    const rowBytes = stream.rowBytes;
    // whole rows (KvCache.writeRows writes rows)
    const chunk = new Uint8Array(Math.max(1, Math.floor(Math.min(capacity * rowBytes, 8 << 20) / rowBytes)) * rowBytes);
    const u16 = new Uint16Array(chunk.buffer);
    // f16 / f32 words of small random values (f16 bit patterns of |x| < 1 are also finite f32 halves)
    for (let i = 0; i < u16.length; i++) u16[i] = (Math.random() < 0.5 ? 0x3000 : 0xb000) | Math.floor(Math.random() * 0x0c00);
    for (let l = 0; l < stream.config.layers; l++)
      for (const part of ['keys', 'values'] as const) {
        for (let at = 0; at < filled * rowBytes; at += chunk.byteLength) stream.writeRows(l, part, at / rowBytes, chunk, 0, Math.min(chunk.byteLength, filled * rowBytes - at));
      }
    stream.truncate(filled);
    await gpu.device.queue.onSubmittedWorkDone();
    const firstTokens: number[] = [];
    const tokensPerSecond: number[] = [];
    for (const q of QUESTIONS) {
      const t0 = performance.now();
      answer.reset();
      const rec = new CommandRecorder(gpu, undefined, 'full-kv copy');
      answer.copyRowsFrom(rec, stream, 0, 0, filled);
      rec.submit();
      answer.truncate(filled);
      const ids = prompt.questionIds(q);
      const idTensor = Tensor.from(gpu, ids, [ids.length], 'u32', 'question ids');
      const embeddings = text.createEmbeddings(ids.length);
      const er = new CommandRecorder(gpu, undefined, 'question embed');
      text.embed(er, idTensor, embeddings);
      er.submit();
      let first = 0;
      let last = 0;
      const out = await generateGreedy(text, answer, embeddings, { maxNewTokens: answerTokens, eosTokenIds: [], onToken: () => ((last = performance.now() - t0), (first ||= last)) });
      firstTokens.push(first);
      tokensPerSecond.push(((out.length - 1) * 1000) / (last - first));
      idTensor.destroy();
      embeddings.destroy();
    }
    // one frame's tokens prefilled on top of the stream cache (random embeddings)
    const frameEmbeddings = text.createEmbeddings(frameTokens);
    const prefillMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const positions = positionTensor(text, filled, frameTokens);
      const rec = new CommandRecorder(gpu, undefined, 'frame prefill');
      text.forward(rec, stream, frameEmbeddings, positions, { rows: 'none' });
      rec.submit();
      await gpu.device.queue.onSubmittedWorkDone();
      prefillMs.push(performance.now() - t0);
      positions.destroy();
      stream.truncate(filled);
    }
    frameEmbeddings.destroy();
    const row = { minutes: m, frames: n, rows: filled, firstTokenMs: median(firstTokens), decodeTokensPerSecond: median(tokensPerSecond), framePrefillMs: median(prefillMs), gpuMiB: gpu.tensorBytes / 2 ** 20, kvMiBPerCache: (filled * rowBytes * 2 * text.config.numLayers) / 2 ** 20 };
    log(`full-kv-fill @${m} min: ${JSON.stringify(row)}`);
    rows.push(row);
    stream.destroy();
    answer.destroy();
  }
  return rows;
}

/** The re-encode baseline: per question, 8 frames sampled evenly over the stream so far, encoded and answered in one prompt. */
export async function reencode(gpu: GpuDevice, model: SmolVlm, minutes: number[], frameAt: (i: number) => RgbImage, answerTokens: number, log: (line: string) => void) {
  const rows = [];
  for (const m of minutes) {
    const n = Math.round(m * 60);
    const picks = Array.from({ length: 8 }, (_, i) => Math.floor(((i + 0.5) * n) / 8));
    const times: number[] = [];
    for (const q of QUESTIONS) {
      const t0 = performance.now();
      let first = 0;
      await model.generate({ video: { frames: picks.map(frameAt), timestampsSec: picks, durationSec: n }, text: q, maxNewTokens: answerTokens, onToken: () => (first ||= performance.now() - t0) });
      times.push(first);
    }
    rows.push({ minutes: m, frames: n, sampledFrames: 8, firstTokenMs: median(times), gpuMiB: gpu.tensorBytes / 2 ** 20 });
    log(`reencode @${m} min: ${JSON.stringify(rows[rows.length - 1])}`);
  }
  return rows;
}
