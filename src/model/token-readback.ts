import type { GpuDevice } from '../gpu/device';
import type { CommandRecorder } from '../gpu/recorder';
import type { Tensor } from '../gpu/tensor';

/**
 * Reads chosen token ids back while later decode steps already run. Each step's recorder copies the
 * 4-byte id into its own small mappable buffer; the map starts once that step is submitted, so the
 * next steps can be queued before this id reaches the CPU. Without this, every token waits a full
 * submit → map → resolve round trip with the GPU idle (about 0.05 ms in Node/Dawn, 0.2 ms on a
 * Chromium page and several ms in a busy worker), which in the browser costs more than the step.
 */
export class TokenReadback {
  private readonly free: GPUBuffer[] = [];
  private readonly owned: GPUBuffer[] = [];

  constructor(private readonly gpu: GpuDevice) {}

  /** Records the copy of `tokenId[0]` in `rec`; call `read` with the result after `rec.submit()`. */
  record(rec: CommandRecorder, tokenId: Tensor): GPUBuffer {
    let staging = this.free.pop();
    if (!staging) {
      staging = this.gpu.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'token readback' });
      this.owned.push(staging);
    }
    rec.copy(tokenId.buffer, 0, staging, 0, 4);
    return staging;
  }

  /** The id copied into `staging` by a submitted step; the buffer is reused afterwards. */
  async read(staging: GPUBuffer): Promise<number> {
    await this.gpu.waitFor(staging.mapAsync(GPUMapMode.READ));
    const id = new Uint32Array(staging.getMappedRange(0, 4))[0];
    staging.unmap();
    this.free.push(staging);
    return id;
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
    this.free.length = 0;
  }
}
