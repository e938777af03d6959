import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { parseConfig } from '../../src/model/config';
import { headerLength, parseHeader, toFloat32 } from '../../src/model/safetensors';

// The fixture models were written by transformers 5 itself (tools/fixtures/make_fixtures.py): real
// files, not hand-made ones. The loader pieces must read them as transformers wrote them.
const dir = (name: string) => `tools/fixtures/${name}`;

function header(name: string) {
  const bytes = new Uint8Array(readFileSync(`${dir(name)}/model.safetensors`));
  const n = headerLength('model.safetensors', bytes.subarray(0, 8), bytes.length);
  return { bytes, h: parseHeader('model.safetensors', bytes.subarray(8, 8 + n), bytes.length) };
}

test('transformers-5 configs of both fixture models parse (rope_parameters, GQA, tied head)', () => {
  const gqa = parseConfig(readFileSync(`${dir('tiny-gqa')}/config.json`, 'utf8'));
  expect(gqa.text).toMatchObject({ numHeads: 4, numKvHeads: 2, headDim: 32, ropeTheta: 100000, rmsNormEps: 1e-5 });
  expect(gqa.tieWordEmbeddings).toBe(false);
  expect(gqa.imageSeqLen).toBe(4);
  const split = parseConfig(readFileSync(`${dir('tiny-split')}/config.json`, 'utf8'));
  expect(split.tieWordEmbeddings).toBe(true);
  expect(split.text.numKvHeads).toBe(split.text.numHeads);
  const expected = JSON.parse(readFileSync(`${dir('tiny-split')}/expected.json`, 'utf8'));
  expect(split.imageTokenId).toBe(expected.image_token_id);
  expect(split.imageSeqLen).toBe(expected.image_seq_len);
});

test('fixture safetensors: f32 and bf16 files, every tensor the config implies, tied head absent', () => {
  const gqa = header('tiny-gqa');
  expect(gqa.h.tensors.get('lm_head.weight')?.shape).toEqual([460, 128]);
  expect(gqa.h.tensors.get('model.text_model.layers.0.self_attn.k_proj.weight')?.shape).toEqual([64, 128]);
  const split = header('tiny-split');
  expect(split.h.tensors.has('lm_head.weight')).toBe(false);
  const embed = split.h.tensors.get('model.text_model.embed_tokens.weight')!;
  expect(embed.dtype).toBe('BF16');
  const values = toFloat32(embed, split.bytes.subarray(embed.begin, embed.end));
  expect(values.length).toBe(embed.shape[0] * embed.shape[1]);
  // bf16 → f32 is exact: the low 16 bits of every converted value are zero, and values are finite
  const bits = new Uint32Array(values.buffer);
  expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
  expect(values.every(Number.isFinite)).toBe(true);
});

test('the tensor manifest a config implies matches both fixture checkpoints exactly', async () => {
  const { Checkpoint } = await import('../../src/model/checkpoint');
  const { checkManifest, expectedTensors } = await import('../../src/families/smolvlm/manifest');
  const { ModelLoadError } = await import('../../src/errors');
  for (const name of ['tiny-gqa', 'tiny-split']) {
    const source = { location: dir(name), bytes: async (f: string) => { try { return new Uint8Array(readFileSync(`${dir(name)}/${f}`)); } catch { return null; } } };
    const checkpoint = await Checkpoint.open(source);
    const config = parseConfig(readFileSync(`${dir(name)}/config.json`, 'utf8'));
    checkManifest(config, checkpoint);
    // nothing more, nothing less: every stored tensor is one the runtime uses
    expect([...expectedTensors(config).keys()].sort()).toEqual(checkpoint.names.sort());
    // a config that disagrees with the file is refused before any upload, naming the tensor
    const deeper = parseConfig(JSON.stringify({ ...JSON.parse(readFileSync(`${dir(name)}/config.json`, 'utf8')), text_config: { ...JSON.parse(readFileSync(`${dir(name)}/config.json`, 'utf8')).text_config, num_hidden_layers: 9 } }));
    expect(() => checkManifest(deeper, checkpoint)).toThrow(ModelLoadError);
    expect(() => checkManifest(deeper, checkpoint)).toThrow(/missing tensor model\.text_model\.layers\.\d+\.input_layernorm\.weight/);
    const wider = { ...config, text: { ...config.text, intermediateSize: config.text.intermediateSize + 1 } };
    expect(() => checkManifest(wider, checkpoint)).toThrow(/gate_proj\.weight has shape \[\d+, \d+\], config\.json implies/);
  }
});
