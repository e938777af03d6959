import { jsonDepthExceeds } from '../bounded-json';
import { ModelLoadError } from '../errors';
import { bf16ArrayToF16Bits, f32ArrayToF16Bits, fromF16Bits } from '../gpu/f16';
import { LIMITS } from '../limits';

/**
 * The safetensors format: 8-byte little-endian header length N, N bytes of JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}), then the data.
 * Everything is validated against the file size before any tensor is read, so a header that
 * lies is refused before large allocations: shapes are bounded (rank, each dimension), every
 * tensor's bytes lie inside the data section, and no two tensors' byte ranges overlap (a file whose
 * tensors alias each other is not one safetensors would write, and would load garbage silently).
 */
export type SafetensorsDType = 'F32' | 'F16' | 'BF16';

const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2 };

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range in the file (absolute, header included). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  /** Bytes before the data section: 8 + header length. */
  dataStart: number;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Header length is capped: real headers are well under a few MB; a huge value is a corrupt file. */
const MAX_HEADER_BYTES = 100 << 20;

/** Reads the header length from the first 8 bytes. */
export function headerLength(file: string, first8: Uint8Array, fileSize: number): number {
  if (first8.byteLength < 8 || fileSize < 8) throw new ModelLoadError(file, `file is ${fileSize} bytes, too short for a safetensors header`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES) throw new ModelLoadError(file, `header length ${n} is implausibly large (corrupt file?)`);
  if (8 + n > fileSize) throw new ModelLoadError(file, `header length ${n} is larger than the file (${fileSize} bytes): truncated or corrupt`);
  return n;
}

/** Parses and validates the JSON header against the file size. */
export function parseHeader(file: string, headerJson: Uint8Array, fileSize: number): SafetensorsHeader {
  let raw: unknown;
  const text = new TextDecoder().decode(headerJson);
  // a deep header would overflow the stack of whatever walks it (an error message's JSON.stringify)
  if (jsonDepthExceeds(text)) throw new ModelLoadError(file, `header nests more than ${LIMITS.jsonDepth} deep`);
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ModelLoadError(file, 'header is not valid JSON', { cause });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError(file, 'header is not a JSON object');
  const dataStart = 8 + headerJson.byteLength;
  const dataBytes = fileSize - dataStart;
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > LIMITS.tensors + 1) throw new ModelLoadError(file, `header lists ${entries.length} tensors, more than the ${LIMITS.tensors} this runtime reads`);
  for (const [name, value] of entries) {
    if (name === '__metadata__') {
      metadata = checkMetadata(file, value);
      continue;
    }
    const what = `tensor ${short(name)}`;
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!v || typeof v !== 'object') throw new ModelLoadError(file, `${what} is not an object`);
    if (typeof v.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, v.dtype)) {
      throw new ModelLoadError(file, `${what} has unsupported dtype ${short(JSON.stringify(v.dtype) ?? String(v.dtype))} (supported: F32, F16, BF16)`);
    }
    const dtype = v.dtype as SafetensorsDType;
    if (
      !Array.isArray(v.shape) ||
      v.shape.length > LIMITS.tensorRank ||
      !v.shape.every((d) => Number.isInteger(d) && d >= 0 && d <= LIMITS.tensorDim)
    ) {
      throw new ModelLoadError(file, `${what} has an invalid shape (rank ≤ ${LIMITS.tensorRank}, dimensions 0…${LIMITS.tensorDim}): ${short(JSON.stringify(v.shape))}`);
    }
    const offsets = v.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw new ModelLoadError(file, `${what} has invalid data_offsets ${short(JSON.stringify(offsets))}`);
    }
    const [b, e] = offsets as [number, number];
    if (e > dataBytes) {
      throw new ModelLoadError(file, `${what} ends at byte ${e} of the data section, past its end (${dataBytes} bytes): truncated or corrupt`);
    }
    const shape = v.shape as number[];
    const expected = shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
    if (e - b !== expected) {
      throw new ModelLoadError(file, `${what}: ${e - b} bytes for shape [${shape.join(', ')}] ${dtype} (expected ${expected})`);
    }
    tensors.set(name, { name, dtype, shape, begin: dataStart + b, end: dataStart + e });
  }
  checkNoOverlap(file, tensors);
  return { file, dataStart, tensors, metadata };
}

/** Names in messages are cut short: a hostile header's megabyte-long name should not become the message. */
function short(text: string | undefined): string {
  const t = String(text);
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

/** `__metadata__` is a flat map of strings (safetensors' own rule). */
function checkMetadata(file: string, value: unknown): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((x) => typeof x === 'string')) {
    throw new ModelLoadError(file, '__metadata__ must be an object of strings');
  }
  return value as Record<string, string>;
}

/** Two tensors whose bytes overlap would share (and silently corrupt) each other's weights. */
function checkNoOverlap(file: string, tensors: Map<string, TensorEntry>): void {
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (cur.begin < prev.end) {
      throw new ModelLoadError(file, `tensors ${short(prev.name)} and ${short(cur.name)} overlap (bytes ${cur.begin}…${Math.min(prev.end, cur.end)} belong to both): corrupt or hostile file`);
    }
  }
}

/**
 * A tensor's bytes as f16 bit patterns, written into `out` from `outOffset`: an F16 tensor's bits
 * are copied as they are (no trip through f32), F32 and BF16 values are rounded as f32ToF16Bits
 * rounds them. The same bits as `f32ArrayToF16Bits(toFloat32(entry, bytes))`, for every value but
 * NaN payloads, with no f32 array in between.
 */
export function toF16BitsInto(entry: TensorEntry, bytes: Uint8Array, out: Uint16Array, outOffset = 0): void {
  const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  switch (entry.dtype) {
    case 'F16':
      out.set(new Uint16Array(aligned.buffer, aligned.byteOffset, count), outOffset);
      return;
    case 'F32':
      f32ArrayToF16Bits(new Float32Array(aligned.buffer, aligned.byteOffset, count), out, outOffset);
      return;
    case 'BF16':
      bf16ArrayToF16Bits(new Uint16Array(aligned.buffer, aligned.byteOffset, count), out, outOffset);
      return;
  }
}

/** Converts a tensor's bytes to f32 (bf16 → f32 is exact: the bits shifted up by 16). */
export function toFloat32(entry: TensorEntry, bytes: Uint8Array): Float32Array {
  const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, count).slice();
    case 'BF16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      const out = new Uint32Array(count);
      for (let i = 0; i < count; i++) out[i] = src[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'F16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
      return fromF16Bits(src, count);
    }
  }
}
