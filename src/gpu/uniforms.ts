/**
 * Uniform data for many dispatches packed into a few reusable buffers. Each dispatch gets a
 * 256-byte slot; slots are written with one `writeBuffer` per chunk right before the submit.
 * Reusing the same chunks across submits is safe: queue operations run in order, so a submit's
 * commands read the data written just before it.
 */
/** Bytes of one dispatch's uniform slot: the largest uniform block a kernel can declare. */
export const UNIFORM_SLOT_BYTES = 256;
const SLOT = UNIFORM_SLOT_BYTES;
const SLOTS_PER_CHUNK = 256;

export interface UniformSlot {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export class UniformArena {
  private readonly chunks: GPUBuffer[] = [];
  private readonly staging: Uint32Array<ArrayBuffer>[] = [];
  private used = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Reserves a slot for `data` (at most 256 bytes, as 32-bit words) in the current batch. */
  push(data: Uint32Array): UniformSlot {
    if (data.byteLength > SLOT) throw new Error(`uniform block of ${data.byteLength} bytes exceeds ${SLOT}`);
    const chunk = Math.floor(this.used / SLOTS_PER_CHUNK);
    const slot = this.used % SLOTS_PER_CHUNK;
    if (chunk === this.chunks.length) {
      this.chunks.push(
        this.device.createBuffer({ label: `uniforms ${chunk}`, size: SLOT * SLOTS_PER_CHUNK, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
      );
      this.staging.push(new Uint32Array((SLOT * SLOTS_PER_CHUNK) / 4));
    }
    this.staging[chunk].set(data, (slot * SLOT) / 4);
    this.used++;
    return { buffer: this.chunks[chunk], offset: slot * SLOT, size: Math.max(16, Math.ceil(data.byteLength / 16) * 16) };
  }

  /** Forgets the batch's slots without uploading them. */
  discard(): void {
    this.used = 0;
  }

  /** Uploads the batch's slots and starts a new batch. Call right before `queue.submit`. */
  flush(): void {
    const chunksUsed = Math.ceil(this.used / SLOTS_PER_CHUNK);
    for (let c = 0; c < chunksUsed; c++) {
      const slots = Math.min(SLOTS_PER_CHUNK, this.used - c * SLOTS_PER_CHUNK);
      // a typed array's offset and size are in its elements (words here)
      this.device.queue.writeBuffer(this.chunks[c], 0, this.staging[c], 0, (slots * SLOT) / 4);
    }
    this.used = 0;
  }
}
