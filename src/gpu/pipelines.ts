import { definesKey, preprocessWgsl, type ShaderDefines } from './shader';

export interface PipelineSpec {
  /** Kernel family name, used in labels and the cache key. */
  name: string;
  /** WGSL sources concatenated in order (shared preludes first, then the kernel file). */
  sources: readonly string[];
  /** `#if` switches: feature variants such as F16 or weight formats. */
  defines?: ShaderDefines;
  /** WGSL `override` constants: tile sizes and other scalars fixed at pipeline creation. */
  overrides?: Readonly<Record<string, number>>;
  entryPoint?: string;
}

/**
 * Compiles each (kernel, variant, override set) once. Variants are a handful per kernel, so the
 * cache is unbounded; its size is the number of distinct programs a model uses.
 */
export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  // pipelines found by get() before, by caller (a kernel contract) and that caller's own key
  private readonly byCaller = new Map<object, Map<string, GPUComputePipeline>>();

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  /**
   * The pipeline `caller` remembered under its own `key` (see remember), if any. For hot paths: a
   * caller's key is cheaper to build than a spec and get()'s sorted key (kernels/common.ts looks up
   * ~180 a decode step).
   */
  found(caller: object, key: string): GPUComputePipeline | undefined {
    return this.byCaller.get(caller)?.get(key);
  }

  /** get(spec), remembered for `caller` under `key`, where found() finds it from then on. */
  remember(caller: object, key: string, spec: PipelineSpec): GPUComputePipeline {
    const pipeline = this.get(spec);
    let byKey = this.byCaller.get(caller);
    if (!byKey) this.byCaller.set(caller, (byKey = new Map()));
    byKey.set(key, pipeline);
    return pipeline;
  }

  get(spec: PipelineSpec): GPUComputePipeline {
    const defines = spec.defines ?? {};
    const moduleKey = `${spec.name}|${definesKey(defines)}`;
    const overrides = spec.overrides ?? {};
    const overrideKey = Object.keys(overrides)
      .sort()
      .map((k) => `${k}=${overrides[k]}`)
      .join(',');
    const key = `${moduleKey}|${spec.entryPoint ?? 'main'}|${overrideKey}`;
    let pipeline = this.pipelines.get(key);
    if (pipeline) return pipeline;
    let module = this.modules.get(moduleKey);
    if (!module) {
      const code = preprocessWgsl(spec.sources.join('\n'), defines);
      module = this.device.createShaderModule({ label: moduleKey, code });
      this.modules.set(moduleKey, module);
    }
    pipeline = this.device.createComputePipeline({
      label: key,
      layout: 'auto',
      compute: { module, entryPoint: spec.entryPoint ?? 'main', constants: overrides },
    });
    this.pipelines.set(key, pipeline);
    return pipeline;
  }
}
