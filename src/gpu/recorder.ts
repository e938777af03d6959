import type { GpuDevice } from './device';
import { Tensor } from './tensor';
import type { GpuTimer } from './timer';
import type { UniformArena } from './uniforms';
import { bufferId, cacheBindGroup, cachedBindGroup } from './bind-groups';

/** A storage binding: a whole tensor or buffer, or a byte range of a buffer. */
export type Binding = Tensor | GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/**
 * One recorded command as a trace keeps it (CommandRecorder.startTrace): enough to record it again
 * without the code that chose it (step-plan.ts). A dispatch's storage bindings are kept resolved,
 * with their part of the bind group key, so recording it again skips both.
 */
export type RecordedOp =
  | {
      kind: 'dispatch';
      pipeline: GPUComputePipeline;
      /** The uniform block as 32-bit words (a copy), or null. */
      uniforms: Uint32Array | null;
      bindings: readonly (GPUBufferBinding | null)[];
      storageKey: string;
      workgroups: readonly [number, number, number];
    }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number };

function bufferBinding(b: Binding): GPUBufferBinding {
  if (b instanceof Tensor) return { buffer: b.buffer, offset: 0, size: Math.max(4, b.byteLength) };
  if ('buffer' in b) return { buffer: b.buffer, offset: b.offset ?? 0, size: b.size };
  return { buffer: b };
}

/**
 * Records many dispatches into one command encoder and, between copies, one compute pass; a
 * forward pass is then a single submit (DESIGN decision 8). Uniform blocks go through the
 * device's arena; binding 0 of group 0 is always the kernel's uniform block, storage bindings
 * follow from 1 in the order given.
 */
export class CommandRecorder {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  private readonly arena: UniformArena;
  private submitted = false;
  /** Dispatches recorded so far: a figure the benchmarks report per token. */
  dispatches = 0;
  private trace: RecordedOp[] | null = null;

  constructor(
    readonly gpu: GpuDevice,
    private readonly timer?: GpuTimer,
    label?: string,
  ) {
    this.encoder = gpu.device.createCommandEncoder({ label });
    this.arena = gpu.acquireUniformArena();
  }

  dispatch(
    pipeline: GPUComputePipeline,
    uniforms: ArrayBuffer | null,
    storage: readonly (Binding | null)[],
    workgroups: readonly [number, number?, number?],
  ): void {
    const bindings = storage.map((b) => (b ? bufferBinding(b) : null));
    // the storage part of the bind group key: every binding's buffer id, offset and size, in
    // binding order ('-' for an unused number)
    let storageKey = '';
    for (const b of bindings) storageKey += b ? `|${bufferId(b.buffer)}:${b.offset ?? 0}:${b.size ?? ''}` : '|-';
    const [x, y = 1, z = 1] = workgroups;
    const words = uniforms ? new Uint32Array(uniforms) : null;
    this.trace?.push({ kind: 'dispatch', pipeline, uniforms: words ? words.slice() : null, bindings, storageKey, workgroups: [x, y, z] });
    this.record(pipeline, words, bindings, storageKey, x, y, z);
  }

  /** Records a traced dispatch again, with these uniform words (its own, or patched: step-plan.ts). */
  replay(op: Extract<RecordedOp, { kind: 'dispatch' }>, uniforms: Uint32Array | null): void {
    this.trace?.push({ ...op, uniforms: uniforms ? uniforms.slice() : null });
    const [x, y, z] = op.workgroups;
    this.record(op.pipeline, uniforms, op.bindings, op.storageKey, x, y, z);
  }

  private record(
    pipeline: GPUComputePipeline,
    uniforms: Uint32Array | null,
    bindings: readonly (GPUBufferBinding | null)[],
    storageKey: string,
    x: number,
    y: number,
    z: number,
  ): void {
    if (this.submitted) throw new Error('recorder already submitted');
    const slot = uniforms ? this.arena.push(uniforms) : null;
    const key = (slot ? `${bufferId(slot.buffer)}:${slot.offset}:${slot.size}` : '-') + storageKey;
    let bindGroup = cachedBindGroup(pipeline, key);
    if (!bindGroup) {
      const entries: GPUBindGroupEntry[] = [];
      if (slot) entries.push({ binding: 0, resource: slot });
      // null leaves a binding number unused, for entry points that skip a buffer of the shared layout
      bindings.forEach((b, i) => b && entries.push({ binding: i + 1, resource: b }));
      bindGroup = this.gpu.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      cacheBindGroup(pipeline, key, bindGroup, bindings.flatMap((b) => (b ? [b.buffer] : [])));
    }
    const empty = x === 0 || y === 0 || z === 0;
    const perDispatch = this.timer?.perDispatch === true;
    if (perDispatch) {
      // a timed pass of its own, named by the pipeline (GpuTimer.readLabelled)
      if (empty) return;
      this.endPass();
      this.pass = this.encoder.beginComputePass({ timestampWrites: this.timer?.nextPass(pipeline.label) });
    } else if (!this.pass) {
      this.pass = this.encoder.beginComputePass({ timestampWrites: this.timer?.nextPass() });
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, bindGroup);
    if (empty) return;
    this.pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    if (perDispatch) this.endPass();
  }

  /**
   * From here on, every dispatch and copy is also kept as a RecordedOp, until endTrace returns
   * them (step-plan.ts records a step's commands once and then again without the code that chose them).
   */
  startTrace(): void {
    this.trace = [];
  }

  endTrace(): RecordedOp[] {
    const ops = this.trace ?? [];
    this.trace = null;
    return ops;
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.trace?.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size });
    this.endPass();
    this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /**
   * Drops everything recorded without submitting it (a step abandoned half-recorded, or a
   * benchmark of the recording alone): the uniform arena goes back to the device's pool.
   */
  discard(): void {
    if (this.submitted) throw new Error('recorder already submitted');
    this.endPass();
    this.arena.discard();
    this.submitted = true;
    this.gpu.releaseUniformArena(this.arena);
  }

  /** Ends the pass, uploads uniforms and submits everything recorded as one command buffer. */
  submit(): void {
    if (this.submitted) throw new Error('recorder already submitted');
    this.endPass();
    this.timer?.resolve(this.encoder);
    this.arena.flush();
    this.gpu.device.queue.submit([this.encoder.finish()]);
    this.submitted = true;
    this.gpu.releaseUniformArena(this.arena);
  }
}
