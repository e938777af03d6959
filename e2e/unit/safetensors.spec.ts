import { expect, test } from '@playwright/test';
import { ModelLoadError } from '../../src/errors';
import { headerLength, parseHeader, toFloat32 } from '../../src/model/safetensors';

/** Builds a safetensors file the way the Python library writes one. */
function build(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function parse(file: Uint8Array) {
  const n = headerLength('model.safetensors', file.subarray(0, 8), file.length);
  return parseHeader('model.safetensors', file.subarray(8, 8 + n), file.length);
}

test('reads F32, F16 and BF16 tensors and converts them exactly', () => {
  const f32 = new Float32Array([1.5, -2, 3.25]);
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0]); // 1, -2, 0.5, 0
  const bf16 = new Uint16Array([0x3fc0, 0xc020]); // 1.5, -2.5
  const data = new Uint8Array(12 + 8 + 4);
  data.set(new Uint8Array(f32.buffer), 0);
  data.set(new Uint8Array(f16.buffer), 12);
  data.set(new Uint8Array(bf16.buffer), 20);
  const file = build(
    {
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      b: { dtype: 'F16', shape: [2, 2], data_offsets: [12, 20] },
      c: { dtype: 'BF16', shape: [2], data_offsets: [20, 24] },
    },
    data,
  );
  const h = parse(file);
  expect([...h.tensors.keys()]).toEqual(['a', 'b', 'c']);
  expect(h.metadata.format).toBe('pt');
  const read = (name: string) => {
    const e = h.tensors.get(name)!;
    return [...toFloat32(e, file.subarray(e.begin, e.end))];
  };
  expect(read('a')).toEqual([1.5, -2, 3.25]);
  expect(read('b')).toEqual([1, -2, 0.5, 0]);
  expect(read('c')).toEqual([1.5, -2.5]);
});

test('a header that lies is refused with a typed error naming the file and the problem', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const cases: [Uint8Array, RegExp][] = [
    [build({ t: { ...ok, data_offsets: [0, 800] } }, new Uint8Array(8)), /past its end/],
    [build({ t: { ...ok, dtype: 'I64' } }, new Uint8Array(8)), /unsupported dtype "I64"/],
    [build({ t: { ...ok, shape: [3] } }, new Uint8Array(8)), /8 bytes for shape \[3\] F32 \(expected 12\)/],
    [build({ t: { ...ok, data_offsets: [8, 0] } }, new Uint8Array(8)), /invalid data_offsets/],
    [build({ t: { ...ok, shape: [-1] } }, new Uint8Array(8)), /invalid shape/],
  ];
  for (const [file, message] of cases) {
    let error: unknown;
    try {
      parse(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(/^model\.safetensors: /);
    expect((error as Error).message).toMatch(message);
  }
  // header length larger than the file
  const truncated = build({ t: ok }, new Uint8Array(8)).subarray(0, 30);
  expect(() => parse(truncated)).toThrow(/header length \d+ is larger than the file \(30 bytes\)/);
  // not JSON
  const garbage = new Uint8Array(20);
  new DataView(garbage.buffer).setBigUint64(0, 4n, true);
  garbage.set([0x7b, 0x7b, 0x7b, 0x7b], 8);
  expect(() => parse(garbage)).toThrow(/header is not valid JSON/);
  // too short to hold a header
  expect(() => parse(new Uint8Array(5))).toThrow(/too short/);
});
