/**
 * GPU time of compute passes through `timestamp-query`. Each timed pass writes a begin and an
 * end timestamp; `read()` resolves them after the work is submitted and returns per-pass
 * durations in nanoseconds. Where the feature is missing, `supported` is false and passes are
 * recorded untimed (callers then fall back to wall-clock time around `onSubmittedWorkDone`).
 *
 * With `perDispatch`, the recorder gives every dispatch a pass of its own, named by its pipeline
 * (`readLabelled()`): where a stage's GPU time goes, kernel by kernel. Passes between dispatches
 * add a little time of their own, so use it for shares, not for a stage's total.
 */
export class GpuTimer {
  readonly supported: boolean;
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolveBuffer: GPUBuffer | null = null;
  private readonly readBuffer: GPUBuffer | null = null;
  private passes = 0;
  private labels: string[] = [];

  constructor(
    private readonly device: GPUDevice,
    readonly capacity = 64,
    readonly perDispatch = false,
  ) {
    this.supported = device.features.has('timestamp-query');
    // a query set holds at most 4096 queries (WebGPU): two a pass
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2048) throw new RangeError(`GpuTimer: capacity ${capacity} is not 1…2048 passes`);
    if (!this.supported) return;
    this.querySet = device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    this.resolveBuffer = device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    this.readBuffer = device.createBuffer({ size: capacity * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /** Timestamp writes for the next pass (named `label`), or undefined when untimed or full. */
  nextPass(label = ''): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet || this.passes >= this.capacity) return undefined;
    const i = this.passes++;
    this.labels[i] = label;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Records the query resolution; called by the recorder before finishing its encoder. */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet || this.passes === 0) return;
    encoder.resolveQuerySet(this.querySet, 0, this.passes * 2, this.resolveBuffer!, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer!, 0, this.readBuffer!, 0, this.passes * 16);
  }

  /** Durations of the timed passes in ns, then resets for reuse. */
  async read(): Promise<number[]> {
    return (await this.readLabelled()).map((p) => p.ns);
  }

  /** The timed passes with their names (a pipeline's label in `perDispatch` mode), then resets. */
  async readLabelled(): Promise<{ label: string; ns: number }[]> {
    if (!this.readBuffer || this.passes === 0) return [];
    const n = this.passes;
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, n * 16);
    const stamps = new BigUint64Array(this.readBuffer.getMappedRange(0, n * 16).slice(0));
    this.readBuffer.unmap();
    this.passes = 0;
    const out: { label: string; ns: number }[] = [];
    for (let i = 0; i < n; i++) out.push({ label: this.labels[i], ns: Number(stamps[2 * i + 1] - stamps[2 * i]) });
    this.labels = [];
    return out;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuffer?.destroy();
    this.readBuffer?.destroy();
  }
}
