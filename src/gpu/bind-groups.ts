/**
 * Bind groups already created, per pipeline (an 'auto' layout belongs to its pipeline), by the
 * buffer ranges they bind. A decode step binds the same weights, workspaces and cache buffers
 * every token, and its uniform blocks land in the same arena slots (the arena is reused and filled
 * in the same order), so from the second token on every bind group comes from here: creating
 * them was most of a token's host time.
 *
 * A bind group that binds a buffer is dropped when that buffer is released (`forgetBuffer`, from
 * GpuDevice.trackRelease): buffers made for one frame or one question (token ids, positions,
 * input embeddings) would otherwise leave ~8 bind groups and their keys behind every frame, until
 * a pipeline's map reached MAX_BIND_GROUPS_PER_PIPELINE — tens of thousands of dead bind groups
 * across the pipelines, held in the page and in the GPU process (the 20,000-frame soak's RSS grew
 * ~12 KB a frame beyond what the memory store counts). The cap stays as a backstop.
 */

/** A number per buffer, for bind group keys (ids are never reused, so a destroyed buffer's key never matches again). */
const bufferIds = new WeakMap<GPUBuffer, number>();
let nextBufferId = 1;

export function bufferId(buffer: GPUBuffer): number {
  let id = bufferIds.get(buffer);
  if (id === undefined) {
    id = nextBufferId++;
    bufferIds.set(buffer, id);
  }
  return id;
}

interface Cached {
  group: GPUBindGroup;
  key: string;
  /** The pipeline's map it is in. */
  groups: Map<string, Cached>;
  /** Ids of the buffers it binds. */
  ids: readonly number[];
}

const MAX_BIND_GROUPS_PER_PIPELINE = 2048;

const byPipeline = new WeakMap<GPUComputePipeline, Map<string, Cached>>();
/** Buffer id → the cached bind groups that bind it. */
const byBuffer = new Map<number, Set<Cached>>();

/** The bind group cached for this pipeline and key, if any. */
export function cachedBindGroup(pipeline: GPUComputePipeline, key: string): GPUBindGroup | undefined {
  return byPipeline.get(pipeline)?.get(key)?.group;
}

/** Caches `group` under the pipeline and key; `buffers` are the buffers it binds. */
export function cacheBindGroup(pipeline: GPUComputePipeline, key: string, group: GPUBindGroup, buffers: readonly GPUBuffer[]): void {
  let groups = byPipeline.get(pipeline);
  if (!groups) byPipeline.set(pipeline, (groups = new Map()));
  if (groups.size >= MAX_BIND_GROUPS_PER_PIPELINE) {
    for (const c of groups.values()) unlink(c);
    groups.clear();
  }
  const cached: Cached = { group, key, groups, ids: buffers.map(bufferId) };
  groups.set(key, cached);
  for (const id of cached.ids) {
    let set = byBuffer.get(id);
    if (!set) byBuffer.set(id, (set = new Set()));
    set.add(cached);
  }
}

/** Drops every cached bind group that binds `buffer` (it is being destroyed). */
export function forgetBuffer(buffer: GPUBuffer): void {
  const id = bufferIds.get(buffer);
  if (id === undefined) return;
  const set = byBuffer.get(id);
  if (!set) return;
  for (const c of [...set]) {
    c.groups.delete(c.key);
    unlink(c);
  }
}

/** Bind groups cached for this pipeline (for tests). */
export function cachedBindGroupCount(pipeline: GPUComputePipeline): number {
  return byPipeline.get(pipeline)?.size ?? 0;
}

/** Buffers that cached bind groups still bind (for tests: it must not grow with dead buffers). */
export function bufferEntryCount(): number {
  return byBuffer.size;
}

function unlink(c: Cached): void {
  for (const id of c.ids) {
    const set = byBuffer.get(id);
    if (!set) continue;
    set.delete(c);
    if (set.size === 0) byBuffer.delete(id);
  }
}
