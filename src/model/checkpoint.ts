import { ModelLoadError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { Tensor } from '../gpu/tensor';
import { uploadWeight, type Weight, type WeightFormat } from '../kernels/weights';
import { headerLength, parseHeader, toFloat32, type TensorEntry } from './safetensors';
import { readText, requireBytes, type ModelSource } from './source';

interface Located {
  entry: TensorEntry;
  bytes: Uint8Array;
}

/**
 * The tensors of a checkpoint: `model.safetensors`, or the shards `model.safetensors.index.json`
 * lists. Headers are validated against each file's size when it is opened, so a lying header is
 * refused before any tensor is uploaded.
 */
export class Checkpoint {
  private constructor(private readonly tensors: Map<string, Located>) {}

  static async open(source: ModelSource): Promise<Checkpoint> {
    const index = await readText(source, 'model.safetensors.index.json');
    let files: string[];
    if (index !== null) {
      let parsed: { weight_map?: Record<string, string> };
      try {
        parsed = JSON.parse(index);
      } catch (cause) {
        throw new ModelLoadError('model.safetensors.index.json', 'not valid JSON', { cause });
      }
      if (!parsed.weight_map || typeof parsed.weight_map !== 'object') {
        throw new ModelLoadError('model.safetensors.index.json', 'has no weight_map');
      }
      files = [...new Set(Object.values(parsed.weight_map))];
    } else {
      files = ['model.safetensors'];
    }
    const tensors = new Map<string, Located>();
    for (const file of files) {
      const bytes = await requireBytes(source, file);
      const n = headerLength(file, bytes.subarray(0, 8), bytes.length);
      const header = parseHeader(file, bytes.subarray(8, 8 + n), bytes.length);
      for (const [name, entry] of header.tensors) tensors.set(name, { entry, bytes });
    }
    return new Checkpoint(tensors);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  get names(): string[] {
    return [...this.tensors.keys()];
  }

  shape(name: string): readonly number[] {
    return this.locate(name).entry.shape;
  }

  /** The tensor as f32 values, checked against the shape the config implies. */
  float32(name: string, expectedShape?: readonly number[]): Float32Array {
    const { entry, bytes } = this.locate(name);
    if (expectedShape && entry.shape.join() !== expectedShape.join()) {
      throw new ModelLoadError(
        'model.safetensors',
        `tensor ${name} has shape [${entry.shape.join(', ')}], the config implies [${expectedShape.join(', ')}]`,
      );
    }
    return toFloat32(entry, bytes.subarray(entry.begin, entry.end));
  }

  /** A Linear layer's `[out, in]` weight (and bias, if present) in the chosen storage format. */
  linear(gpu: GpuDevice, prefix: string, out: number, inFeatures: number, format: WeightFormat, options: { bias?: boolean } = {}): Weight {
    const values = this.float32(`${prefix}.weight`, [out, inFeatures]);
    const bias = options.bias ? Tensor.from(gpu, this.float32(`${prefix}.bias`, [out]), [out], 'f32', `${prefix}.bias`) : null;
    return uploadWeight(gpu, values, out, inFeatures, format, { bias, label: prefix });
  }

  /** A vector or small table kept in f32 (norm weights, biases, position embeddings). */
  vector(gpu: GpuDevice, name: string, shape: readonly number[]): Tensor {
    return Tensor.from(gpu, this.float32(name, shape), shape, 'f32', name);
  }

  private locate(name: string): Located {
    const found = this.tensors.get(name);
    if (!found) throw new ModelLoadError('model.safetensors', `missing tensor ${name}`);
    return found;
  }
}
