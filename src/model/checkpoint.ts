import { parseJson } from './json-file';
import { ModelLoadError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { Tensor } from '../gpu/tensor';
import { uploadPackedWeight, uploadWeight, type Weight, type WeightFormat } from '../kernels/weights';
import { packF16Bits } from '../kernels/weight-packing';
import type { TensorReadReporter } from './progress';
import { LIMITS } from '../limits';
import { parseJsonObject } from './json-file';
import { headerLength, parseHeader, toF16BitsInto, toFloat32, type TensorEntry } from './safetensors';
import { checkShardName } from './shard-name';
import { readText, requireBytes, type ModelSource } from './source';

/** One safetensors file, held until every tensor in it has been read (when released on read). */
interface CheckpointFile {
  name: string;
  bytes: Uint8Array | null;
  /** Bytes of tensor data in the file, and how many of them have been read. */
  tensorBytes: number;
  readBytes: number;
  unread: number;
}

interface Located {
  entry: TensorEntry;
  file: CheckpointFile;
  read: boolean;
}

export interface CheckpointOpenOptions {
  /** Told, per file, how many tensor bytes have been read (for upload) so far. */
  onTensorRead?: TensorReadReporter;
  /**
   * Drop each file's bytes as soon as every tensor in it has been read once, instead of when the
   * Checkpoint is garbage: for a loader that reads each tensor once (SmolVlm.load). A tensor read
   * again after that is a ModelLoadError.
   */
  releaseFilesOnceRead?: boolean;
}

/**
 * The tensors of a checkpoint: `model.safetensors`, or the shards `model.safetensors.index.json`
 * lists. Headers are validated against each file's size when it is opened, so a lying header is
 * refused before any tensor is uploaded (and the source told to forget that file, so a cached
 * copy of a corrupt download is not served again).
 */
export class Checkpoint {
  private constructor(
    private readonly tensors: Map<string, Located>,
    private readonly options: CheckpointOpenOptions,
  ) {}

  static async open(source: ModelSource, options: CheckpointOpenOptions = {}): Promise<Checkpoint> {
    const files = await shardFiles(source);
    const tensors = new Map<string, Located>();
    for (const name of files) {
      const bytes = await requireBytes(source, name);
      let header;
      try {
        const n = headerLength(name, bytes.subarray(0, 8), bytes.length);
        header = parseHeader(name, bytes.subarray(8, 8 + n), bytes.length);
      } catch (e) {
        await source.forget?.(name);
        throw e;
      }
      const file: CheckpointFile = { name, bytes, tensorBytes: 0, readBytes: 0, unread: header.tensors.size };
      for (const [tensor, entry] of header.tensors) {
        // a tensor in two shards would be taken from whichever came last: refuse the ambiguity
        const other = tensors.get(tensor);
        if (other) throw new ModelLoadError(name, `tensor ${tensor} is also in ${other.file.name}`);
        tensors.set(tensor, { entry, file, read: false });
        file.tensorBytes += entry.end - entry.begin;
      }
    }
    return new Checkpoint(tensors, options);
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
    const { entry, bytes } = this.read(name, expectedShape);
    return toFloat32(entry, bytes);
  }

  /**
   * The tensor as f16 bit patterns written into `out` from `outOffset` (checked against the shape
   * the config implies): F16 tensors' bits as stored, F32/BF16 rounded as f32ToF16Bits rounds.
   */
  f16BitsInto(name: string, expectedShape: readonly number[], out: Uint16Array, outOffset = 0): void {
    const { entry, bytes } = this.read(name, expectedShape);
    toF16BitsInto(entry, bytes, out, outOffset);
  }

  /** The tensor's bytes, once its shape is checked; counts the tensor as read. */
  private read(name: string, expectedShape?: readonly number[]): { entry: TensorEntry; bytes: Uint8Array } {
    const located = this.locate(name);
    const { entry, file } = located;
    if (expectedShape && entry.shape.join() !== expectedShape.join()) {
      throw new ModelLoadError(
        file.name,
        `tensor ${name} has shape [${entry.shape.join(', ')}], the config implies [${expectedShape.join(', ')}]`,
      );
    }
    if (!file.bytes) throw new ModelLoadError(file.name, `tensor ${name} was read after the file was released (each tensor is read once when loading)`);
    const bytes = file.bytes.subarray(entry.begin, entry.end);
    if (!located.read) this.markRead(located);
    return { entry, bytes };
  }

  private markRead(located: Located): void {
    const { entry, file } = located;
    located.read = true;
    file.readBytes += entry.end - entry.begin;
    file.unread--;
    this.options.onTensorRead?.(file.name, file.readBytes, file.tensorBytes);
    if (file.unread === 0 && this.options.releaseFilesOnceRead) file.bytes = null;
  }

  /** A Linear layer's `[out, in]` weight (and bias, if present) in the chosen storage format. */
  linear(gpu: GpuDevice, prefix: string, out: number, inFeatures: number, format: WeightFormat, options: { bias?: boolean } = {}): Weight {
    const bias = options.bias ? Tensor.from(gpu, this.float32(`${prefix}.bias`, [out]), [out], 'f32', `${prefix}.bias`) : null;
    return this.linearRows(gpu, prefix, [{ name: `${prefix}.weight`, out }], inFeatures, format, { bias });
  }

  /**
   * Linear layers over the same input as one `[Σ out, in]` weight, rows in the order given (a
   * fused projection such as q·k·v), in the chosen storage format. f16 storage takes each
   * tensor's bits straight from the file: converting a 256M F16 checkpoint to f32 and back took
   * most of its load's CPU time (bench/model-bench --load-only). The bits are the same either way.
   */
  linearRows(
    gpu: GpuDevice,
    label: string,
    parts: readonly { name: string; out: number }[],
    inFeatures: number,
    format: WeightFormat,
    options: { bias?: Tensor | null } = {},
  ): Weight {
    const rows = parts.reduce((n, part) => n + part.out, 0);
    let row = 0;
    if (format === 'f16') {
      const bits = new Uint16Array(rows * inFeatures);
      for (const part of parts) {
        this.f16BitsInto(part.name, [part.out, inFeatures], bits, row * inFeatures);
        row += part.out;
      }
      return uploadPackedWeight(gpu, packF16Bits(bits, rows, inFeatures), { bias: options.bias, label });
    }
    let values: Float32Array;
    if (parts.length === 1) {
      values = this.float32(parts[0].name, [rows, inFeatures]); // already its own copy
    } else {
      values = new Float32Array(rows * inFeatures);
      for (const part of parts) {
        values.set(this.float32(part.name, [part.out, inFeatures]), row * inFeatures);
        row += part.out;
      }
    }
    return uploadWeight(gpu, values, rows, inFeatures, format, { bias: options.bias, label });
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

const INDEX = 'model.safetensors.index.json';

/**
 * The safetensors files to read: the shards the index's weight_map names (each checked to be a file
 * inside the model folder, and at most LIMITS.shards of them), or model.safetensors alone.
 */
async function shardFiles(source: ModelSource): Promise<string[]> {
  const index = await readText(source, INDEX);
  if (index === null) return ['model.safetensors'];
  let parsed: Record<string, unknown>;
  try {
    parsed = parseJsonObject(INDEX, index);
  } catch (e) {
    await source.forget?.(INDEX);
    throw e;
  }
  const map = parsed.weight_map;
  if (!map || typeof map !== 'object' || Array.isArray(map)) throw new ModelLoadError(INDEX, 'has no weight_map');
  const files = new Set<string>();
  for (const value of Object.values(map)) {
    files.add(checkShardName(INDEX, value));
    if (files.size > LIMITS.shards) throw new ModelLoadError(INDEX, `weight_map names more than ${LIMITS.shards} shard files`);
  }
  return [...files];
}
