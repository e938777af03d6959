import { InputError } from '../errors';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';
import { actDType } from '../kernels/common';
import { preprocessImages, preprocessVideoFrames, type RgbImage } from '../model/preprocess';
import type { SmolVlm } from '../model/smolvlm';

/** Largest frame side accepted (larger frames are a caller error: downscale before pushing). */
export const MAX_FRAME_SIDE = 8192;

/** Throws InputError unless `frame` is a well-formed RGB/RGBA image of a sane size. */
export function checkFrame(frame: RgbImage): void {
  if (!frame || typeof frame !== 'object') throw new InputError('ingest: the frame must be an image {width, height, data}');
  const { width, height, data } = frame;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new InputError(`ingest: frame size ${width}×${height} is not a positive whole size`);
  if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) throw new InputError(`ingest: a ${width}×${height} frame exceeds ${MAX_FRAME_SIDE} px a side; downscale it first`);
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) throw new InputError('ingest: frame data must be a Uint8Array or Uint8ClampedArray of RGB or RGBA bytes');
  const channels = frame.channels ?? (data.length === width * height * 4 ? 4 : 3);
  if ((channels !== 3 && channels !== 4) || data.length !== width * height * channels) {
    throw new InputError(`ingest: ${data.length} bytes do not make a ${width}×${height} RGB or RGBA frame`);
  }
}

/**
 * One frame → its image embeddings [1·seq, hidden] (the connector's output, in the text model's
 * activation type): GPU preprocessing (no splitting: one tile per frame), the SigLIP tower and
 * the connector. The output and the tower's activations are reused frame after frame.
 */
export class FrameEncoder {
  private readonly visionOut: Tensor;
  readonly features: Tensor;

  constructor(
    private readonly model: SmolVlm,
    private readonly resize: 'video' | 'image',
  ) {
    this.visionOut = model.vision.createOutput(1, 'frame vision features');
    this.features = model.connector.createOutput(1, actDType(model.precision), 'frame embeddings');
  }

  /** Records the encoding of `frame` into `features`; returns a cleanup to run after the submit. */
  record(rec: CommandRecorder, frame: RgbImage): () => void {
    const m = this.model;
    const pre = this.resize === 'video' ? preprocessVideoFrames(m.gpu, [frame], m.processor.video) : preprocessImages(m.gpu, [frame], m.processor.image, { split: false });
    m.vision.forward(rec, pre.pixelValues, this.visionOut);
    m.connector.forward(rec, this.visionOut, this.features);
    return () => pre.pixelValues.destroy();
  }

  destroy(): void {
    this.visionOut.destroy();
    this.features.destroy();
  }
}
