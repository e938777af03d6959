import { GpuLimitError, InputError } from '../errors';
import { fromF16Bits, toF16Bits } from './f16';
import type { GpuDevice } from './device';

/**
 * Element types of tensors in GPU memory. `f16` tensors hold raw 16-bit patterns, two per 32-bit
 * word, whether or not the device has `shader-f16`: shaders read them as `array<f16>` or unpack
 * them from `array<u32>`.
 */
export type DType = 'f32' | 'f16' | 'u32' | 'i32';

export const BYTES_PER_ELEMENT: Record<DType, number> = { f32: 4, f16: 2, u32: 4, i32: 4 };

export type TensorData = Float32Array | Uint32Array | Int32Array | Uint16Array | number[];

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes a tensor of this shape and type occupies, rounded up to whole 32-bit words. */
export function tensorBytes(shape: readonly number[], dtype: DType): number {
  return Math.ceil((elementCount(shape) * BYTES_PER_ELEMENT[dtype]) / 4) * 4;
}

export class Tensor {
  constructor(
    readonly gpu: GpuDevice,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}

  get size(): number {
    return elementCount(this.shape);
  }

  get byteLength(): number {
    return tensorBytes(this.shape, this.dtype);
  }

  /** A tensor on the GPU, zero-filled. */
  static empty(gpu: GpuDevice, shape: readonly number[], dtype: DType, label?: string): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new InputError(`invalid tensor shape [${shape.join(', ')}]`);
    }
    const bytes = Math.max(4, tensorBytes(shape, dtype));
    if (bytes > gpu.limits.maxStorageBufferBindingSize) {
      throw new GpuLimitError(
        `tensor ${label ?? ''} [${shape.join('×')}] ${dtype} needs ${bytes} bytes; this GPU binds at most ${gpu.limits.maxStorageBufferBindingSize}`,
      );
    }
    const buffer = gpu.device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    gpu.trackAllocation(buffer);
    return new Tensor(gpu, buffer, shape, dtype);
  }

  /**
   * Uploads host data. For `f16`, pass numbers (converted here) or a Uint16Array of bit patterns.
   */
  static from(gpu: GpuDevice, data: TensorData, shape: readonly number[], dtype: DType, label?: string): Tensor {
    const count = elementCount(shape);
    if (data.length !== count) {
      throw new InputError(`tensor ${label ?? ''}: ${data.length} values for shape [${shape.join(', ')}] (${count})`);
    }
    const t = Tensor.empty(gpu, shape, dtype, label);
    t.write(data);
    return t;
  }

  write(data: TensorData, elementOffset = 0): void {
    let bytes: ArrayBufferView;
    switch (this.dtype) {
      case 'f32':
        bytes = data instanceof Float32Array ? data : new Float32Array(data);
        break;
      case 'u32':
        bytes = data instanceof Uint32Array ? data : new Uint32Array(data);
        break;
      case 'i32':
        bytes = data instanceof Int32Array ? data : new Int32Array(data);
        break;
      case 'f16':
        bytes = data instanceof Uint16Array ? data : toF16Bits(data);
        if (bytes.byteLength % 4) {
          const padded = new Uint16Array(data.length + 1);
          padded.set(bytes as Uint16Array);
          bytes = padded;
        }
        break;
    }
    const offset = elementOffset * BYTES_PER_ELEMENT[this.dtype];
    if (offset % 4) throw new InputError('f16 writes must start at an even element');
    this.gpu.device.queue.writeBuffer(this.buffer, offset, bytes.buffer, bytes.byteOffset, Math.ceil(bytes.byteLength / 4) * 4);
  }

  /** Reads the tensor back. f32 and f16 come back as Float32Array. */
  async read(): Promise<Float32Array | Uint32Array | Int32Array> {
    const raw = await readBuffer(this.gpu, this.buffer, 0, this.byteLength);
    switch (this.dtype) {
      case 'f32':
        return new Float32Array(raw);
      case 'u32':
        return new Uint32Array(raw);
      case 'i32':
        return new Int32Array(raw);
      case 'f16':
        return fromF16Bits(new Uint16Array(raw), this.size);
    }
  }

  async readFloat(): Promise<Float32Array> {
    const out = await this.read();
    if (!(out instanceof Float32Array)) throw new InputError(`tensor is ${this.dtype}, not a float tensor`);
    return out;
  }

  destroy(): void {
    this.gpu.trackRelease(this.buffer);
    this.buffer.destroy();
  }
}

/** Copies `size` bytes of a buffer into a mappable one and returns them. */
export async function readBuffer(gpu: GpuDevice, buffer: GPUBuffer, offset: number, size: number): Promise<ArrayBuffer> {
  const staging = gpu.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = gpu.device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  gpu.device.queue.submit([encoder.finish()]);
  try {
    await gpu.waitFor(staging.mapAsync(GPUMapMode.READ));
    return staging.getMappedRange().slice(0);
  } finally {
    staging.destroy();
  }
}
