import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { copyBytes } from '../kernels/copy';

/** A run of consecutive image tokens: sequence rows start … start+length−1. */
export interface TokenRun {
  start: number;
  length: number;
}

/** The maximal runs of `imageTokenId` in the ids, in sequence order. */
export function imageTokenRuns(ids: ArrayLike<number>, imageTokenId: number): TokenRun[] {
  const runs: TokenRun[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== imageTokenId) continue;
    const last = runs[runs.length - 1];
    if (last && last.start + last.length === i) last.length++;
    else runs.push({ start: i, length: 1 });
  }
  return runs;
}

/** Anything that records the token-embedding gather (TextModel). */
export interface Embedder {
  embed(rec: CommandRecorder, ids: Tensor, out: Tensor): void;
}

/**
 * The prompt's input embeddings as SmolVLMModel.inputs_merger builds them (spec §6.4):
 * out = embed(ids), then the k-th image token's row is replaced by feature row k (the connector
 * output [nImages·seq, hidden], images in prompt order). One copy per contiguous run of image
 * tokens, all recorded into `rec` after the gather.
 *
 * `hostIds` are the same ids as the `ids` tensor (u32 [T]), on the host to find the runs.
 * `features` may be null only when the prompt has no image token.
 */
export function mergeImageFeatures(
  rec: CommandRecorder,
  embedder: Embedder,
  hostIds: ArrayLike<number>,
  ids: Tensor,
  features: Tensor | null,
  imageTokenId: number,
  out: Tensor,
): void {
  const tokens = hostIds.length;
  if (ids.size !== tokens) throw new InputError(`mergeImageFeatures: ${hostIds.length} host ids but the id tensor holds ${ids.size}`);
  const hidden = out.shape[out.shape.length - 1];
  if (out.size !== tokens * hidden) throw new InputError(`mergeImageFeatures: out [${out.shape.join(', ')}] is not [${tokens}, hidden]`);
  const runs = imageTokenRuns(hostIds, imageTokenId);
  const imageTokens = runs.reduce((n, r) => n + r.length, 0);
  const featureRows = features ? features.size / hidden : 0;
  if (features && (features.dtype !== out.dtype || !Number.isInteger(featureRows))) {
    throw new InputError(`mergeImageFeatures: features ${features.dtype} [${features.shape.join(', ')}] are not rows of ${hidden} ${out.dtype}`);
  }
  if (imageTokens !== featureRows) {
    throw new InputError(`mergeImageFeatures: the prompt has ${imageTokens} image tokens but there are ${featureRows} image feature rows`);
  }
  embedder.embed(rec, ids, out);
  if (!features) return;
  const rowBytes = out.byteLength / tokens;
  let next = 0;
  for (const run of runs) {
    copyBytes(rec, features, next * rowBytes, out, run.start * rowBytes, run.length * rowBytes);
    next += run.length;
  }
}
