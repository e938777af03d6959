import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { FsSource } from '../../src/platform/node/fs-source';
import { InputError, ModelLoadError } from '../../src/errors';
import { checkChatTemplate, renderChat } from '../../src/model/chat-template';
import { Checkpoint } from '../../src/model/checkpoint';
import { parseConfig } from '../../src/model/config';
import { parseProcessorConfig } from '../../src/model/processor-config';
import { parseHeader } from '../../src/model/safetensors';
import { UrlSource } from '../../src/model/source';
import { unsafeRegexShape } from '../../src/model/regex-shape';
import { SmolVlmTokenizer } from '../../src/model/tokenizer';
import { expectBoundedRefusal } from '../support/bounded';

// Issue #14: every count and size a model folder states is bounded before anything is sized by
// it, and a hostile folder is a typed error naming the file and field within seconds and a few
// hundred MB. These run in Node on the parsers the loader calls, in the order it calls them.

const fixture = (path: string) => readFileSync(join('tools/fixtures', path), 'utf8');
const config = () => JSON.parse(fixture('tiny-gqa/config.json')) as { text_config: Record<string, unknown>; vision_config: Record<string, unknown> };

test('a config with absurd sizes is refused by name before the per-layer loops', async () => {
  const layers = config();
  layers.text_config.num_hidden_layers = 1e9;
  await expectBoundedRefusal(() => parseConfig(JSON.stringify(layers)), ModelLoadError, /^config\.json: text_config\.num_hidden_layers is 1000000000, more than the 256/);
  const vocab = config();
  vocab.text_config.vocab_size = 2 ** 40;
  await expectBoundedRefusal(() => parseConfig(JSON.stringify(vocab)), ModelLoadError, /config\.json: text_config\.vocab_size/);
  // each size within its own bound, together a model no device holds
  const huge = config();
  Object.assign(huge.text_config, { hidden_size: 16384, intermediate_size: 131072, num_hidden_layers: 256, num_attention_heads: 128, num_key_value_heads: 128, head_dim: 128 });
  await expectBoundedRefusal(() => parseConfig(JSON.stringify(huge)), ModelLoadError, /config\.json: its sizes imply \d+\.\d billion weights/);
  const eps = config();
  eps.text_config.rms_norm_eps = 1e999; // JSON.parse reads it as Infinity
  await expectBoundedRefusal(() => parseConfig(JSON.stringify(eps).replace('"rms_norm_eps":null', '"rms_norm_eps":1e999')), ModelLoadError, /config\.json: rms_norm_eps must be a number/);
  // the fixture itself still loads
  expect(parseConfig(fixture('tiny-gqa/config.json')).text.numLayers).toBeGreaterThan(0);
});

test('processor settings with absurd sizes are refused by name', async () => {
  const p = JSON.parse(fixture('tiny-gqa/processor_config.json')) as { image_processor: Record<string, unknown> };
  p.image_processor.size = { longest_edge: 1e9 };
  await expectBoundedRefusal(() => parseProcessorConfig({ processorConfig: JSON.stringify(p) }), ModelLoadError, /^processor_config\.json: image_processor\.size\.longest_edge is 1000000000/);
});

test('JSON nested deeper than any model file is refused before it is walked', async () => {
  const deep = `{"model_type": "smolvlm", "x": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  await expectBoundedRefusal(() => parseConfig(deep), ModelLoadError, /^config\.json: nests objects and arrays more than 64 deep/);
  const tokenizer = `{"model": {}, "added_tokens": [], "x": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
  await expectBoundedRefusal(() => SmolVlmTokenizer.fromJson(tokenizer), ModelLoadError, /^tokenizer\.json: nests/);
  const header = new TextEncoder().encode(`{"t": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  await expectBoundedRefusal(() => parseHeader('model.safetensors', header, header.length + 8), ModelLoadError, /^model\.safetensors: header nests more than 64 deep/);
});

test('safetensors tensors whose byte ranges overlap are refused', async () => {
  const header = new TextEncoder().encode(JSON.stringify({
    a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
  }));
  await expectBoundedRefusal(() => parseHeader('model-00002-of-00002.safetensors', header, 8 + header.length + 24), ModelLoadError, /^model-00002-of-00002\.safetensors: tensors a and b overlap/);
  // touching is not overlapping, and zero-size tensors take no bytes
  const fine = new TextEncoder().encode(JSON.stringify({
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    e: { dtype: 'F16', shape: [0], data_offsets: [4, 4] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  }));
  expect(parseHeader('model.safetensors', fine, 8 + fine.length + 16).tensors.size).toBe(3);
  const wide = new TextEncoder().encode(JSON.stringify({ a: { dtype: 'F32', shape: [2 ** 40, 0], data_offsets: [0, 0] } }));
  await expectBoundedRefusal(() => parseHeader('model.safetensors', wide, 8 + wide.length), ModelLoadError, /tensor a has an invalid shape/);
});

/** A safetensors file with one F32 tensor. */
function safetensors(name: string, values: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ [name]: { dtype: 'F32', shape: [values.length], data_offsets: [0, 4 * values.length] } }));
  const out = new Uint8Array(8 + json.length + 4 * values.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(new Uint8Array(Float32Array.from(values).buffer), 8 + json.length);
  return out;
}

const ESCAPES = ['../outside.safetensors', 'sub/../../outside.safetensors', '/etc/passwd', 'https://evil.example/x.safetensors', '//evil.example/x.safetensors', 'C:\\x.safetensors', '%2e%2e/outside.safetensors', 'x.safetensors?../../y'];

test('shard names that reach outside the model folder are refused, in the browser and on disk', async () => {
  const base = 'https://models.example/org/model/resolve/main/';
  const asked: string[] = [];
  for (const name of ESCAPES) {
    const index = JSON.stringify({ weight_map: { 'a.weight': 'model-1.safetensors', 'b.weight': name } });
    const files = new Map<string, Uint8Array>([[`${base}model.safetensors.index.json`, new TextEncoder().encode(index)], [`${base}model-1.safetensors`, safetensors('a.weight', [1])]]);
    // a real UrlSource over a fetch that serves these files and records every URL it is asked for
    const source = new UrlSource(base, async (input) => {
      asked.push(String(input));
      const body = files.get(String(input));
      return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response(null, { status: 404 });
    });
    await expectBoundedRefusal(() => Checkpoint.open(source), ModelLoadError, /^model\.safetensors\.index\.json: weight_map names the file .* shard files must be inside the model folder/);
  }
  expect(asked.every((u) => u.startsWith(base))).toBe(true);
  // and the sources themselves refuse such names, whoever asks
  const source = new UrlSource(base);
  for (const name of ['../x', 'https://evil.example/x', '//evil.example/x']) expect(() => source.urlOf(name)).toThrow(/outside the model folder/);
  expect(source.urlOf('sub/model-1.safetensors')).toBe(`${base}sub/model-1.safetensors`);

  const root = mkdtempSync(join(tmpdir(), 'streamvlm-shards-'));
  mkdirSync(join(root, 'model'));
  writeFileSync(join(root, 'outside.safetensors'), safetensors('outside', [7]));
  writeFileSync(join(root, 'model/model-1.safetensors'), safetensors('a.weight', [1]));
  const disk = new FsSource(join(root, 'model'));
  await expectBoundedRefusal(() => disk.bytes('../outside.safetensors'), ModelLoadError, /^\.\.\/outside\.safetensors: is not a file inside the model folder/);
  await expectBoundedRefusal(() => disk.bytes(join(root, 'outside.safetensors')), ModelLoadError, /is not a file inside the model folder/);
  writeFileSync(join(root, 'model/model.safetensors.index.json'), JSON.stringify({ weight_map: { 'a.weight': 'model-1.safetensors', outside: '../outside.safetensors' } }));
  await expectBoundedRefusal(() => Checkpoint.open(disk), ModelLoadError, /^model\.safetensors\.index\.json: weight_map names the file "\.\.\/outside\.safetensors"/);
});

const ask = [{ role: 'user', content: [{ type: 'image' as const }, { type: 'text' as const, text: 'What is it?' }] }];

test('a hostile chat template is a ModelLoadError within seconds, at load', async () => {
  const hostile: [string, RegExp][] = [
    ['{% for i in range(100000000) %}x{% endfor %}', /range\(\) elements/],
    ['{% for i in range(50000) %}{% for j in range(50000) %}x{% endfor %}{% endfor %}', /range\(\) elements/],
    ['{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}', /steps|ms/],
    ['{% macro g() %}{{ g() }}{% endmacro %}{{ g() }}', /chat_template/],
    ["{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", /characters of text/],
    ['x'.repeat(300_000), /more than the 262144/],
    ["{{ 'x' | indent(400000000) }}", /only a literal width up to 99/],
    ['{{ messages | tojson(indent=n) }}', /only a literal width up to 99/],
  ];
  for (const [template, why] of hostile) {
    const error = await expectBoundedRefusal(() => checkChatTemplate(template), ModelLoadError, /chat_template/, { ms: 5000 });
    expect(error.message).toMatch(why);
  }
  // the fixture's template passes the check and renders as before
  const real = fixture('tiny-gqa/chat_template.jinja');
  checkChatTemplate(real);
  expect(renderChat(real, ask)).toBe('<|im_start|>User:<image>What is it?<end_of_utterance>\nAssistant:');
});

test('a tokenizer whose regex backtracks catastrophically is refused at load; long text is refused at encode', async () => {
  const base = JSON.parse(fixture('tiny-gqa/tokenizer.json')) as Record<string, unknown>;
  const tokenizerConfig = fixture('tiny-gqa/tokenizer_config.json');
  for (const regex of ['(a+)+$', '(\\s*x?)*y', '(a|aa)*b', '\\s*\\s*\\s*\\s*x', '\\s*x*\\s*y*z', '(a)\\1']) {
    const json = { ...base, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false }, base.pre_tokenizer] } };
    await expectBoundedRefusal(() => SmolVlmTokenizer.fromJson(JSON.stringify(json), tokenizerConfig), ModelLoadError, /^tokenizer\.json: pre_tokenizer\.pretokenizers\[0\]\.pattern\.Regex .* is refused/);
  }
  const ids = { ...base, added_tokens: [...(base.added_tokens as object[]), { id: 'smolvlm', content: '<x>', special: true }] };
  await expectBoundedRefusal(() => SmolVlmTokenizer.fromJson(JSON.stringify(ids), tokenizerConfig), ModelLoadError, /^tokenizer\.json: added_tokens\[\d+\] needs a whole-number id/);
  // the real tokenizer (GPT-2-style regex) loads, probes included, well inside the bound
  const started = performance.now();
  const tok = SmolVlmTokenizer.fromJson(fixture('tiny-gqa/tokenizer.json'), tokenizerConfig);
  expect(performance.now() - started).toBeLessThan(1000);
  await expectBoundedRefusal(() => tok.encode('a '.repeat(40_000)), InputError, /text of 80000 characters is more than the 65536/);
});

test('the regex shape check passes the real tokenizers\' patterns and refuses the backtracking shapes', () => {
  const real = [
    // GPT-2 / SmolLM2 / SmolVLM2
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
    // Llama 3
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    // Qwen 2
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  ];
  for (const pattern of real) expect(unsafeRegexShape(pattern), pattern).toBeNull();
  const hostile: [string, RegExp][] = [
    ['(a+)+$', /unbounded repetition/],
    ['(?:\\s*x?)*y', /unbounded repetition/],
    ['(a|ab)*c', /alternatives/],
    ['\\s*\\s*x', /twice in a row/],
    ['a*b*c*d', /more than 2 unbounded/],
    ['(x)\\1', /backreference/],
    ['(a', /balance/],
  ];
  for (const [pattern, why] of hostile) expect(unsafeRegexShape(pattern), pattern).toMatch(why);
});
