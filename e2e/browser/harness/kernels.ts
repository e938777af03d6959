// The page Playwright drives for kernel parity tests: it acquires the GPU once and exposes the
// self-check registry, so each test runs real kernels in this Chromium's WebGPU.
import * as Comlink from 'comlink';
import { StepPlan } from '../../../src/gpu/step-plan';
import { copyBytes } from '../../../src/kernels/copy';
import { GpuDevice } from '../../../src/gpu/device';
import { bufferEntryCount, cachedBindGroupCount } from '../../../src/gpu/bind-groups';
import { CommandRecorder } from '../../../src/gpu/recorder';
import { GpuTimer } from '../../../src/gpu/timer';
import { Tensor } from '../../../src/gpu/tensor';
import { DeviceLostError } from '../../../src/errors';
import { add } from '../../../src/kernels/elementwise';
import { rmsNorm } from '../../../src/kernels/norm';
import type { CoreWorkerApi } from './core-worker';
import type { Precision } from '../../../src/kernels/common';
import { checks, runChecks, type CheckReport } from '../../../src/selfcheck/index';

declare global {
  interface Window {
    harness: {
      adapter: () => Promise<{ vendor: string; architecture: string; f16: boolean; subgroups: boolean; timestamps: boolean }>;
      families: () => string[];
      names: (family: string) => string[];
      run: (filter: string, precision: Precision) => Promise<CheckReport[]>;
      inWorker: (filter: string) => Promise<{ architecture: string; inWorker: boolean; reports: CheckReport[] }>;
      deviceLoss: () => Promise<{ isDeviceLostError: boolean; reason: string; message: string; lostProperty: boolean }>;
      pipelineCache: () => Promise<{ sameVariantReused: boolean; otherVariantDistinct: boolean; size: number }>;
      bindGroupRelease: () => Promise<{ cached: number; entriesGrowth: number; value: number }>;
      timing: () => Promise<{ supported: boolean; passes: number[] }>;
      stepPlanRules: () => Promise<StepPlanRules>;
      timingPerDispatch: () => Promise<{ supported: boolean; dispatches: number; passes: { label: string; ns: number }[]; oversizeRefused: boolean }>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();

/** Which steps a StepPlan recorded from its plan ('plan') or by their code ('code'), per case, and whether each case's output was right. */
export interface StepPlanRules {
  affine: { ways: string[]; right: boolean };
  throwing: { ways: string[]; right: boolean; thrown: boolean };
  notAffine: { ways: string[]; right: boolean };
  gap: { ways: string[]; right: boolean };
}

window.harness = {
  async stepPlanRules() {
    const gpu = await gpuPromise;
    const values = Float32Array.from({ length: 64 * 4 }, (_, i) => i + 1);
    // each step n copies the 16 bytes at `at(n)` of src to the same place in dst (copyBytes: the
    // offsets are uniform words), so a wrong offset from the plan leaves a row of dst at zero
    const run = async (lengths: number[], at: (n: number) => number, throwAt = -1) => {
      const src = Tensor.from(gpu, values, [values.length], 'f32');
      const dst = Tensor.from(gpu, new Float32Array(values.length), [values.length], 'f32');
      const plan = new StepPlan();
      const ways: string[] = [];
      let thrown = false;
      for (const n of lengths) {
        const rec = new CommandRecorder(gpu);
        try {
          const fromPlan = plan.step(rec, 'copy', n, () => {
            copyBytes(rec, src, at(n) * 16, dst, at(n) * 16, 16);
            if (n === throwAt) throw new Error('a step cut short');
          });
          ways.push(fromPlan ? 'plan' : 'code');
          rec.submit();
        } catch {
          thrown = true;
          ways.push('threw');
          rec.discard();
        }
      }
      const out = await dst.readFloat();
      const right = lengths.filter((n) => n !== throwAt).every((n) => [0, 1, 2, 3].every((j) => out[at(n) * 4 + j] === values[at(n) * 4 + j]));
      src.destroy();
      dst.destroy();
      return { ways, right, thrown };
    };
    const steps = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
    const affine = await run(steps(0, 8), (n) => 2 * n + 1);
    const throwing = await run(steps(0, 8), (n) => n, 1);
    const notAffine = await run(steps(0, 7), (n) => n * n);
    const gap = await run([0, 1, 3, 4, 5, 6, 7], (n) => n);
    return { affine: { ways: affine.ways, right: affine.right }, throwing, notAffine: { ways: notAffine.ways, right: notAffine.right }, gap: { ways: gap.ways, right: gap.right } };
  },
  async adapter() {
    const gpu = await gpuPromise;
    return { vendor: gpu.adapter.vendor, architecture: gpu.adapter.architecture, ...gpu.features };
  },
  families: () => [...new Set(checks.map((c) => c.family))],
  names: (family) => checks.filter((c) => c.family === family).map((c) => c.name),
  async run(filter, precision) {
    const gpu = await gpuPromise;
    return runChecks(gpu, { filter, precisions: [precision] });
  },
  async inWorker(filter) {
    const worker = new Worker(new URL('./core-worker.ts', import.meta.url), { type: 'module' });
    try {
      return await Comlink.wrap<CoreWorkerApi>(worker).run(filter);
    } finally {
      worker.terminate();
    }
  },
  async deviceLoss() {
    // A device of its own, so the shared one stays usable for the other tests.
    const gpu = await GpuDevice.acquire();
    const lost = new Promise<DeviceLostError>((resolve) => gpu.onLost(resolve));
    gpu.destroy();
    const error = await lost;
    return { isDeviceLostError: error instanceof DeviceLostError, reason: error.reason, message: error.message, lostProperty: gpu.lost === error };
  },
  async pipelineCache() {
    const gpu = await gpuPromise;
    const a = Tensor.from(gpu, [1, 2, 3], [3], 'f32');
    const rec = new CommandRecorder(gpu);
    add(rec, a, a, Tensor.empty(gpu, [3], 'f32'));
    const before = gpu.pipelines.size;
    add(rec, a, a, Tensor.empty(gpu, [3], 'f32'));
    const sameVariantReused = gpu.pipelines.size === before;
    const spec = { name: 'cache-probe', sources: ['#if WIDE\noverride N: u32 = 8u;\n#else\noverride N: u32 = 4u;\n#endif\n@group(0) @binding(1) var<storage, read_write> o: array<u32>;\n@compute @workgroup_size(1) fn main() { o[0] = N; }'] };
    const p1 = gpu.pipelines.get({ ...spec, defines: { WIDE: false } });
    const p2 = gpu.pipelines.get({ ...spec, defines: { WIDE: true } });
    const p3 = gpu.pipelines.get({ ...spec, defines: { WIDE: false } });
    rec.submit();
    return { sameVariantReused, otherVariantDistinct: p1 !== p2 && p1 === p3, size: gpu.pipelines.size };
  },
  async bindGroupRelease() {
    const gpu = await gpuPromise;
    const body = '@group(0) @binding(1) var<storage, read_write> a: array<u32>;\n@group(0) @binding(2) var<storage, read_write> b: array<u32>;\n@compute @workgroup_size(1) fn main() { a[0] = b[0] + 1u; }';
    const p = gpu.pipelines.get({ name: 'bind-group-probe', sources: [body], defines: {} });
    const kept = Tensor.from(gpu, [0], [1], 'u32');
    const keptToo = Tensor.from(gpu, [7], [1], 'u32');
    const entriesBefore = bufferEntryCount();
    // 50 "frames": each binds a buffer made for it, then destroys it; and binds the same two kept buffers
    for (let i = 0; i < 50; i++) {
      const transient = Tensor.from(gpu, [i], [1], 'u32');
      const rec = new CommandRecorder(gpu);
      rec.dispatch(p, null, [transient, keptToo], [1]);
      rec.dispatch(p, null, [kept, keptToo], [1]);
      rec.submit();
      transient.destroy();
    }
    const value = (await kept.read())[0];
    const result = { cached: cachedBindGroupCount(p), entriesGrowth: bufferEntryCount() - entriesBefore, value };
    kept.destroy();
    keptToo.destroy();
    return result;
  },
  async timing() {
    const gpu = await gpuPromise;
    const timer = new GpuTimer(gpu.device);
    const a = Tensor.from(gpu, new Float32Array(4096).fill(1), [4096], 'f32');
    const out = Tensor.empty(gpu, [4096], 'f32');
    const rec = new CommandRecorder(gpu, timer);
    for (let i = 0; i < 8; i++) add(rec, a, a, out);
    rec.copy(out.buffer, 0, a.buffer, 0, 16); // a copy ends the pass; the next dispatch opens a second timed pass
    add(rec, a, a, out);
    rec.submit();
    const passes = await timer.read();
    return { supported: timer.supported, passes };
  },
  async timingPerDispatch() {
    const gpu = await gpuPromise;
    const timer = new GpuTimer(gpu.device, 64, true);
    const a = Tensor.from(gpu, new Float32Array(4096).fill(1), [4096], 'f32');
    const out = Tensor.empty(gpu, [4096], 'f32');
    const weight = Tensor.from(gpu, new Float32Array(4096).fill(1), [4096], 'f32');
    const rec = new CommandRecorder(gpu, timer);
    for (let i = 0; i < 3; i++) add(rec, a, a, out);
    rmsNorm(rec, a, weight, out);
    rec.submit();
    const passes = await timer.readLabelled();
    // a query set holds at most 4096 queries: a timer of 2049 passes is refused when made
    let oversizeRefused = false;
    try {
      new GpuTimer(gpu.device, 2049);
    } catch (e) {
      oversizeRefused = e instanceof RangeError;
    }
    return { supported: timer.supported, dispatches: rec.dispatches, passes, oversizeRefused };
  },
};
