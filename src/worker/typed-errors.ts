import * as Comlink from 'comlink';
import * as errors from '../errors';
import { MemoryFileError } from '../memory/persist';

/**
 * Typed errors across the worker boundary. Comlink sends a thrown Error as {name, message, stack}
 * and rebuilds a plain Error, so `instanceof InputError`, `code`, `advice` and `file` would be lost.
 * This replaces its 'throw' handler (in the worker and on the page: both import this module) with
 * one that carries a StreamVlmError's fields and rebuilds the same class; other throws go through
 * Comlink's own handler unchanged.
 */

interface SentError {
  streamvlm: true;
  name: string;
  code: errors.ErrorCode;
  message: string;
  advice: string;
  stack?: string;
  /** Class-specific fields (ModelLoadError.file, DeviceLostError.reason, MemoryFileError.file). */
  extra: Record<string, string>;
}

/** Each class by its explicit errorName (not its JavaScript name, which a minifier may change). */
const CLASSES: Record<string, { prototype: errors.StreamVlmError }> = Object.fromEntries(
  [
    errors.GpuUnavailableError,
    errors.DeviceLostError,
    errors.GpuLimitError,
    errors.InputError,
    errors.ModelLoadError,
    errors.GpuOutOfMemoryError,
    errors.CameraError,
    errors.UnsupportedModelError,
    errors.QuotaError,
    MemoryFileError,
  ].map((c) => [c.errorName, c]),
);

function send(e: errors.StreamVlmError): SentError {
  const extra: Record<string, string> = {};
  for (const key of ['file', 'reason']) {
    const v = (e as unknown as Record<string, unknown>)[key];
    if (typeof v === 'string') extra[key] = v;
  }
  return { streamvlm: true, name: e.name, code: e.code, message: e.message, advice: e.advice, stack: e.stack, extra };
}

/** Rebuilds the error as its own class without running its constructor (whose message formats differ). */
export function rebuildError(s: SentError): errors.StreamVlmError {
  const proto = (CLASSES[s.name] ?? errors.StreamVlmError).prototype;
  const e = Object.create(proto) as errors.StreamVlmError;
  Object.defineProperties(e, {
    message: { value: s.message, writable: true, configurable: true },
    name: { value: s.name, writable: true, configurable: true },
    code: { value: s.code, enumerable: true },
    advice: { value: s.advice, enumerable: true },
    stack: { value: s.stack ?? `${s.name}: ${s.message}`, writable: true, configurable: true },
  });
  for (const [k, v] of Object.entries(s.extra)) Object.defineProperty(e, k, { value: v, enumerable: true });
  return e;
}

let installed = false;

export function installTypedErrors(): void {
  if (installed) return;
  installed = true;
  const original = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<{ value: unknown }, unknown>;
  const handler: Comlink.TransferHandler<{ value: unknown }, unknown> = {
    canHandle: (value): value is { value: unknown } => original.canHandle(value),
    serialize(thrown) {
      if (thrown.value instanceof errors.StreamVlmError) return [{ typed: send(thrown.value) }, []];
      return original.serialize(thrown);
    },
    deserialize(serialized) {
      const typed = (serialized as { typed?: SentError } | null)?.typed;
      if (typed?.streamvlm) throw rebuildError(typed);
      return original.deserialize(serialized);
    },
  };
  Comlink.transferHandlers.set('throw', handler);
}
