import { DeviceLostError, GpuOutOfMemoryError, StreamVlmError } from '../errors';

/** What browsers say when a GPU allocation fails (Chromium/Dawn, Firefox/wgpu, Safari). */
const OOM_MESSAGE = /out[ -]of[ -]memory|\bOOM\b|allocation (?:of .* )?failed|failed to allocate|insufficient memory/i;

/**
 * Whether an error is the GPU running out of memory: a GPUOutOfMemoryError (from an
 * 'out-of-memory' error scope or the device's uncaptured-error event), a RangeError from a mapped
 * createBuffer that could not be allocated, or a device lost for lack of memory.
 */
export function isOutOfMemory(error: unknown): boolean {
  if (error instanceof GpuOutOfMemoryError) return true;
  if (typeof GPUOutOfMemoryError === 'function' && error instanceof GPUOutOfMemoryError) return true;
  if (error instanceof DeviceLostError) return OOM_MESSAGE.test(error.message);
  if (error instanceof StreamVlmError) return false;
  const e = error as { name?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return e.name === 'GPUOutOfMemoryError' || (typeof e.message === 'string' && OOM_MESSAGE.test(e.message));
}

/** Turns an out-of-memory failure of `what` into GpuOutOfMemoryError (with advice); other errors pass unchanged. */
export function classifyOutOfMemory(error: unknown, what: string): unknown {
  if (error instanceof GpuOutOfMemoryError || !isOutOfMemory(error)) return error;
  const detail = (error as { message?: unknown }).message;
  return new GpuOutOfMemoryError(`${what}: the GPU ran out of memory${typeof detail === 'string' && detail ? ` (${detail})` : ''}`, { cause: error });
}

/**
 * Runs `work` inside an 'out-of-memory' error scope of `device`: WebGPU does not throw when a
 * buffer cannot be allocated, it hands back an invalid buffer and reports the error to the scope,
 * so a load that ran out of memory would otherwise "succeed" and fail later at its first use.
 * Rejects with GpuOutOfMemoryError when the scope caught one (after `work` settled).
 */
export async function withOutOfMemoryScope<T>(device: GPUDevice, what: string, work: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  let result: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    result = { ok: true, value: await work() };
  } catch (error) {
    result = { ok: false, error };
  }
  const caught = await device.popErrorScope();
  if (caught) throw new GpuOutOfMemoryError(`${what}: the GPU ran out of memory (${caught.message})`, { cause: result.ok ? caught : result.error });
  if (!result.ok) throw classifyOutOfMemory(result.error, what);
  return result.value;
}
