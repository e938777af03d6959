import type { CommandRecorder } from '../../gpu/recorder';
import type { Tensor } from '../../gpu/tensor';
import { actDType, type Precision } from '../../kernels/common';
import type { Connector } from '../../model/connector';
import { preprocessImages, preprocessVideoFrames, type RgbImage } from '../../model/preprocess';
import type { ProcessorSettings } from '../../model/processor-config';
import type { VisionTower } from '../../model/vision';
import type { GpuDevice } from '../../gpu/device';
import type { FrameEncoder } from '../family';

/** What SmolVLM's frame encoder drives: the processor settings, the SigLIP tower and the connector. */
export interface SmolVlmTowers {
  gpu: GpuDevice;
  processor: ProcessorSettings;
  precision: Precision;
  vision: VisionTower;
  connector: Connector;
}

/**
 * One frame → its image embeddings [1·seq, hidden] (the connector's output, in the text model's
 * activation type): GPU preprocessing (no splitting: one tile per frame), the SigLIP tower and
 * the connector. The output and the tower's activations are reused frame after frame.
 */
export class SmolVlmFrameEncoder implements FrameEncoder {
  private readonly visionOut: Tensor;
  readonly features: Tensor;

  constructor(
    private readonly model: SmolVlmTowers,
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
