import { expect, test } from '@playwright/test';
import { defineKernel, read, readWrite } from '../../src/gpu/kernel-contract';

// Node only: the contract a kernel declares once generates its WGSL header and packs its uniforms
// and bindings by name, and a shader body that repeats what the header owns is refused.
const body = '@compute @workgroup_size(WG) fn main() { out[0] = x[0] * params.scale + f32(params.count); }';
const kernel = defineKernel({
  name: 'probe',
  body: [body],
  uniforms: { count: 'u32', offset: 'i32', scale: 'f32' },
  bindings: { x: read((d) => (d.PACKED ? 'array<u32>' : 'array<f32>')), out: readWrite('array<f32>') },
  constants: { WG: 64 },
  overrides: { SPLIT: 4 },
  defines: ['PACKED'],
});

test('the header declares Params in field order, bindings from 1 in order, and the constants', () => {
  const header = kernel.header({ F16: false, PACKED: false });
  const code = header.split('\n').filter((line) => !line.startsWith('//') && line);
  expect(code).toEqual([
    'struct Params {',
    '  count: u32,',
    '  offset: i32,',
    '  scale: f32,',
    '}',
    '@group(0) @binding(0) var<uniform> params: Params;',
    '@group(0) @binding(1) var<storage, read> x: array<f32>;',
    '@group(0) @binding(2) var<storage, read_write> out: array<f32>;',
    'const WG: u32 = 64u;',
    'override SPLIT: u32 = 4u;',
  ]);
  expect(kernel.header({ F16: false, PACKED: true })).toContain('var<storage, read> x: array<u32>;');
});

test('uniforms pack by name in declaration order with the WGSL scalar types, padded to 16 bytes', () => {
  const bytes = kernel.uniformBlock({ scale: 0.5, offset: -3, count: 7 })!;
  expect(bytes.byteLength).toBe(16);
  const view = new DataView(bytes);
  expect([view.getUint32(0, true), view.getInt32(4, true), view.getFloat32(8, true)]).toEqual([7, -3, 0.5]);
});

test('bindings are ordered by name; one not given is left unbound; an unknown name is refused', () => {
  const buffer = {} as GPUBuffer;
  expect(kernel.storage({ out: buffer })).toEqual([null, buffer]);
  expect(() => kernel.storage({ y: buffer } as never)).toThrow(/no binding named y/);
});

test('override values are set by declared name; an undeclared one is refused', () => {
  expect(kernel.overrideValues({ SPLIT: 8 })).toEqual({ SPLIT: 8 });
  expect(kernel.overrideValues(undefined)).toEqual({});
  expect(() => kernel.overrideValues({ SPLITS: 8 } as never)).toThrow(/SPLITS is not one of its override constants/);
});

test('a body that declares what the header owns is refused with the kernel named', () => {
  const own = defineKernel({ name: 'own', body: ['struct Params { n: u32 }'], uniforms: { n: 'u32' }, bindings: {}, constants: {} });
  expect(() => own.header({})).toThrow(/kernel own: its shader body declares struct Params/);
  const binding = defineKernel({ name: 'bound', body: ['@group(0) @binding(1) var<storage> a: array<u32>;'], uniforms: {}, bindings: {}, constants: {} });
  expect(() => binding.header({})).toThrow(/@binding/);
  const constant = defineKernel({ name: 'wg', body: ['const WG: u32 = 8u;'], uniforms: {}, bindings: {}, constants: { WG: 8 } });
  expect(() => constant.header({})).toThrow(/declares WG, a constant or override of its contract/);
});
