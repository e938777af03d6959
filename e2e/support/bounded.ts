import { expect } from '@playwright/test';

/**
 * Runs `fn` (which must refuse its input) and asserts the refusal: an instance of `type` whose
 * message matches `message` (the file and the field), within `ms` milliseconds, having left no more
 * than `mb` MB more of JS heap and ArrayBuffers allocated than before. A missing bound fails this
 * by the clock, by the memory figure, or by the process dying of the allocation.
 */
export async function expectBoundedRefusal(
  fn: () => unknown,
  type: abstract new (...args: never[]) => Error,
  message: RegExp,
  limits: { ms?: number; mb?: number } = {},
): Promise<Error> {
  const { ms = 3000, mb = 200 } = limits;
  const before = process.memoryUsage();
  const started = performance.now();
  let error: unknown = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  const elapsed = performance.now() - started;
  const after = process.memoryUsage();
  expect(error, 'the input was accepted').not.toBeNull();
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(elapsed, `refused after ${elapsed.toFixed(0)} ms`).toBeLessThan(ms);
  const grownMB = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / 2 ** 20;
  expect(grownMB, `${grownMB.toFixed(0)} MB more allocated`).toBeLessThan(mb);
  return error as Error;
}
