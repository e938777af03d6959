/**
 * SmolVLM's connector (spec §6.3): pixel shuffle by `scale_factor`, then one bias-free Linear to
 * the text width. Vision features [n, seq, E] → image embeddings [n, seq/s², textHidden].
 */
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { matmul } from '../kernels/matmul';
import { pixelShuffle } from '../kernels/pixel-shuffle';
import { destroyWeight, type Weight, type WeightFormat } from '../kernels/weights';
import type { Checkpoint } from './checkpoint';
import type { SmolVlmConfig } from './config';
import { connectorTensors } from './connector-tensors';

export { CONNECTOR_WEIGHT } from './connector-tensors';

export class Connector {
  /** Tokens per tile in and out. */
  readonly inSeq: number;
  readonly outSeq: number;
  readonly visionHidden: number;
  readonly textHidden: number;
  private shuffled: Tensor | null = null;
  /** Shuffle buffers outgrown by a bigger call: an unsubmitted recorder may still use them. */
  private readonly retired: Tensor[] = [];

  private constructor(
    readonly gpu: GpuDevice,
    readonly scaleFactor: number,
    config: SmolVlmConfig,
    private readonly proj: Weight,
  ) {
    this.inSeq = (config.vision.imageSize / config.vision.patchSize) ** 2;
    this.outSeq = this.inSeq / scaleFactor ** 2;
    this.visionHidden = config.vision.hiddenSize;
    this.textHidden = config.text.hiddenSize;
  }

  /** Uploads the projection `[textHidden, visionHidden·s²]` (shape checked) in `format`. */
  static load(gpu: GpuDevice, checkpoint: Checkpoint, config: SmolVlmConfig, options: { format?: WeightFormat } = {}): Connector {
    const { proj } = connectorTensors(config);
    return new Connector(gpu, config.scaleFactor, config, checkpoint.linear(gpu, proj.prefix, proj.out, proj.in, options.format ?? 'f32'));
  }

  createOutput(tiles: number, dtype: 'f32' | 'f16' = 'f32', label = 'image embeddings'): Tensor {
    return Tensor.empty(this.gpu, [tiles, this.outSeq, this.textHidden], dtype, label);
  }

  /** Records vision [n, inSeq, visionHidden] → out [n, outSeq, textHidden] (same activation dtype). */
  forward(rec: CommandRecorder, vision: Tensor, out: Tensor): void {
    const n = vision.shape[0];
    const expectedIn = [n, this.inSeq, this.visionHidden];
    if (vision.shape.length !== 3 || vision.shape.join() !== expectedIn.join()) {
      throw new InputError(`connector: vision features must be [n, ${this.inSeq}, ${this.visionHidden}], got [${vision.shape.join(', ')}]`);
    }
    const expectedOut = [n, this.outSeq, this.textHidden];
    if (out.shape.join() !== expectedOut.join()) {
      throw new InputError(`connector: out must be [${expectedOut.join(', ')}], got [${out.shape.join(', ')}]`);
    }
    if (n === 0) return;
    const width = this.visionHidden * this.scaleFactor ** 2;
    const size = n * this.outSeq * width;
    if (!this.shuffled || this.shuffled.size < size || this.shuffled.dtype !== vision.dtype) {
      if (this.shuffled) this.retired.push(this.shuffled);
      this.shuffled = Tensor.empty(this.gpu, [size], vision.dtype, 'connector shuffled');
    }
    const shuffled = new Tensor(this.gpu, this.shuffled.buffer, [n, this.outSeq, width], vision.dtype);
    pixelShuffle(rec, vision, shuffled, this.scaleFactor);
    matmul(rec, shuffled, this.proj, out);
  }

  destroy(): void {
    this.shuffled?.destroy();
    this.retired.forEach((t) => t.destroy());
    this.shuffled = null;
    this.retired.length = 0;
    destroyWeight(this.proj);
  }
}
