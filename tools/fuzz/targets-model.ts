import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS } from '../../src/limits';
import { checkChatTemplate, DEFAULT_CHAT_TEMPLATE, renderChat } from '../../src/model/chat-template';
import { parseConfig, type SmolVlmConfig } from '../../src/model/config';
import { expectedTensors } from '../../src/families/smolvlm/manifest';
import { parseProcessorConfig, type ProcessorSettings } from '../../src/model/processor-config';
import { headerLength, parseHeader, toFloat32, type SafetensorsHeader } from '../../src/model/safetensors';
import { SmolVlmTokenizer } from '../../src/model/tokenizer';
import { havoc, INTERESTING_U32 } from './mutate-bytes';
import { mutateJson } from './mutate-json';
import type { Rng } from './rng';
import { utf8, type FuzzTarget } from './target';

const FIXTURES = join(process.cwd(), 'tools/fixtures');
const fixture = (path: string) => readFileSync(join(FIXTURES, path), 'utf8');
const MODELS = ['tiny-gqa', 'needle-vlm', 'tiny-split'];

// ---- safetensors ----

const DTYPES = { F32: 4, F16: 2, BF16: 2 } as const;

/** A small valid safetensors file: a handful of tensors of every supported dtype, packed in order. */
export function buildSafetensors(rng: Rng, header?: Record<string, unknown> | string): Uint8Array {
  if (typeof header === 'string') return frameHeader(rng, header, 64);
  let h = header;
  let dataBytes = 0;
  if (!h) {
    h = rng.chance(0.3) ? { __metadata__: { format: 'pt' } } : {};
    const n = 1 + rng.int(5);
    for (let i = 0; i < n; i++) {
      const dtype = rng.pick(Object.keys(DTYPES)) as keyof typeof DTYPES;
      const shape = Array.from({ length: rng.int(4) }, () => 1 + rng.int(4));
      const bytes = shape.reduce((a, d) => a * d, 1) * DTYPES[dtype];
      h[`t${i}.weight`] = { dtype, shape, data_offsets: [dataBytes, dataBytes + bytes] };
      dataBytes += bytes;
    }
  } else {
    for (const v of Object.values(h)) {
      const o = (v as { data_offsets?: unknown })?.data_offsets;
      if (Array.isArray(o) && typeof o[1] === 'number' && o[1] < 1 << 16) dataBytes = Math.max(dataBytes, o[1]);
    }
  }
  return frameHeader(rng, JSON.stringify(h), dataBytes);
}

/** Header text framed with its right length, then `dataBytes` random bytes of tensor data. */
function frameHeader(rng: Rng, text: string, dataBytes: number): Uint8Array {
  const json = utf8(text);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (let i = 8 + json.length; i < out.length; i++) out[i] = rng.int(256);
  return out;
}

function headerJson(file: Uint8Array): string {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(file.subarray(8, 8 + n));
}

export const safetensorsTarget: FuzzTarget<Uint8Array, SafetensorsHeader> = {
  name: 'safetensors',
  names: ['model.safetensors'],
  make(rng) {
    const valid = buildSafetensors(rng);
    switch (rng.int(5)) {
      case 0:
        return valid;
      case 1: {
        // structure-aware: a mutated header, re-framed with its right length
        const text = mutateJson(rng, headerJson(valid));
        let h: unknown;
        try {
          h = JSON.parse(text);
        } catch {
          return buildSafetensors(rng, text); // mutated past JSON: framed as it is
        }
        return buildSafetensors(rng, h && typeof h === 'object' && !Array.isArray(h) ? (h as Record<string, unknown>) : text);
      }
      case 2: {
        // overlapping tensors: one tensor's range moved onto another's
        const h = JSON.parse(headerJson(valid)) as Record<string, { data_offsets?: number[] }>;
        const names = Object.keys(h).filter((k) => k !== '__metadata__');
        if (names.length >= 2) {
          const [a, b] = [rng.pick(names), rng.pick(names)];
          const shift = rng.int(4);
          h[a].data_offsets = [h[b].data_offsets![0] + shift, h[b].data_offsets![0] + shift + (h[a].data_offsets![1] - h[a].data_offsets![0])];
        }
        return buildSafetensors(rng, h);
      }
      case 3: {
        const out = valid.slice();
        new DataView(out.buffer).setBigUint64(0, BigInt(rng.pick([...INTERESTING_U32, 2 ** 40, 2 ** 53])), true);
        return out;
      }
      default:
        return havoc(rng, valid);
    }
  },
  run(file) {
    const n = headerLength('model.safetensors', file.subarray(0, 8), file.length);
    const header = parseHeader('model.safetensors', file.subarray(8, 8 + n), file.length);
    for (const t of header.tensors.values()) toFloat32(t, file.subarray(t.begin, t.end));
    return header;
  },
  check(file, header) {
    const ranges = [...header.tensors.values()].sort((a, b) => a.begin - b.begin);
    let end = header.dataStart;
    for (const t of ranges) {
      if (t.begin < header.dataStart || t.end > file.length) return `tensor ${t.name} lies outside the data`;
      const count = t.shape.reduce((a, d) => a * d, 1);
      if (t.end - t.begin !== count * DTYPES[t.dtype]) return `tensor ${t.name} size disagrees with its shape`;
      if (t.end > t.begin && t.begin < end) return `tensor ${t.name} overlaps another`;
      if (t.end > t.begin) end = t.end;
      if (toFloat32(t, file.subarray(t.begin, t.end)).length !== count) return `tensor ${t.name} converted to the wrong length`;
    }
    return null;
  },
  bytes: (file) => file,
};

// ---- config.json ----

function checkConfigLimits(c: SmolVlmConfig): string | null {
  const v = c.vision;
  const t = c.text;
  const ints: [string, number, number][] = [
    ['vision layers', v.numLayers, LIMITS.layers], ['vision hidden', v.hiddenSize, LIMITS.hiddenSize], ['vision heads', v.numHeads, LIMITS.heads],
    ['text layers', t.numLayers, LIMITS.layers], ['text hidden', t.hiddenSize, LIMITS.hiddenSize], ['text heads', t.numHeads, LIMITS.heads],
    ['head dim', t.headDim, LIMITS.headDim], ['vocab', t.vocabSize, LIMITS.vocabSize], ['positions', t.maxPositions, LIMITS.maxPositions],
  ];
  for (const [what, value, max] of ints) if (!Number.isInteger(value) || value < 1 || value > max) return `${what} ${value} accepted`;
  if (t.numHeads % t.numKvHeads) return 'heads not a multiple of kv heads';
  if (!Number.isInteger(c.imageSeqLen) || c.imageSeqLen < 1) return `imageSeqLen ${c.imageSeqLen}`;
  if (c.imageTokenId >= t.vocabSize) return 'image token outside the vocabulary';
  if (![v.layerNormEps, t.rmsNormEps, t.ropeTheta].every(Number.isFinite)) return 'a non-finite float accepted';
  return null;
}

export const configTarget: FuzzTarget<string, SmolVlmConfig> = {
  name: 'config',
  names: ['config.json'],
  make: (rng) => (rng.chance(0.05) ? fixture(`${rng.pick(MODELS)}/config.json`) : mutateJson(rng, fixture(`${rng.pick(MODELS)}/config.json`))),
  run(text) {
    const config = parseConfig(text);
    expectedTensors(config); // the per-layer manifest loop the loader runs next
    return config;
  },
  check: (_text, config) => checkConfigLimits(config),
  bytes: utf8,
};

// ---- processor settings ----

interface ProcessorCase {
  processorConfig?: string;
  preprocessorConfig?: string;
}

const tinyConfig = () => parseConfig(fixture('tiny-gqa/config.json'));

export const processorTarget: FuzzTarget<ProcessorCase, ProcessorSettings> = {
  name: 'processor',
  names: ['processor_config.json', 'preprocessor_config.json'],
  make(rng) {
    const nested = fixture('tiny-gqa/processor_config.json');
    if (rng.chance(0.5)) return { processorConfig: mutateJson(rng, nested) };
    // the flat transformers-4 layout, from the nested file's image processor
    const flat = JSON.stringify((JSON.parse(nested) as { image_processor: unknown }).image_processor);
    return { preprocessorConfig: mutateJson(rng, flat), ...(rng.chance(0.3) ? { processorConfig: '{"image_seq_len": 16}' } : {}) };
  },
  run: (files) => parseProcessorConfig(files, tinyConfig()),
  check(_files, s) {
    const all = [s.image.longestEdge, s.image.maxImageSize, s.video.longestEdge, s.video.maxImageSize];
    if (!all.every((x) => Number.isInteger(x) && x > 0 && x <= LIMITS.resizeEdge)) return `a size out of bounds: ${all}`;
    if (!(s.video.fps > 0 && s.video.fps <= LIMITS.fps) || !(s.video.maxFrames <= LIMITS.videoFrames)) return 'video sampling out of bounds';
    const floats = [s.image.rescaleFactor, ...s.image.imageMean, ...s.image.imageStd, s.video.rescaleFactor, ...s.video.imageStd];
    if (!floats.every(Number.isFinite) || s.image.imageStd.includes(0)) return 'unusable pixel normalization accepted';
    return null;
  },
  bytes: (files) => utf8(JSON.stringify(files)),
};

// ---- tokenizer ----

/** Regexes a hostile tokenizer.json might carry: catastrophic, polynomial, huge or broken. */
const HOSTILE_REGEXES = ['(a+)+$', '(\\s*)*x', '(a|aa)*b', '(.*a){20}', '(\\w+\\s?)+$', '((ab)*)+c', '(\\d+)*\\.', '(?:\\p{L}+)+!', '\\s*\\s*\\s*\\s*x', '(a)\\1+', '[', '(', 'a'.repeat(10_000), " ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"];

interface TokenizerCase {
  tokenizer: string;
  config: string;
}

export const tokenizerTarget: FuzzTarget<TokenizerCase, SmolVlmTokenizer> = {
  name: 'tokenizer',
  names: ['tokenizer.json', 'tokenizer_config.json', 'characters'],
  make(rng) {
    const model = rng.pick(['tiny-gqa', 'needle-vlm']);
    const tokenizer = fixture(`${model}/tokenizer.json`);
    const config = fixture(`${model}/tokenizer_config.json`);
    switch (rng.int(4)) {
      case 0: {
        const json = JSON.parse(tokenizer) as Record<string, unknown>;
        const split = { type: 'Split', pattern: { Regex: rng.pick(HOSTILE_REGEXES) }, behavior: 'Isolated', invert: false };
        json.pre_tokenizer = rng.chance(0.5) ? split : { type: 'Sequence', pretokenizers: [split, json.pre_tokenizer] };
        if (rng.chance(0.3)) json.normalizer = { type: 'Replace', pattern: { Regex: rng.pick(HOSTILE_REGEXES) }, content: ' ' };
        return { tokenizer: JSON.stringify(json), config };
      }
      case 1:
        return { tokenizer, config: mutateJson(rng, config) };
      default:
        return { tokenizer: mutateJson(rng, tokenizer), config };
    }
  },
  run(c) {
    const tok = SmolVlmTokenizer.fromJson(c.tokenizer, c.config);
    tok.encode('User:<image> What color was the star? 0123 \n\n  !!');
    return tok;
  },
  check(_c, tok) {
    const s = tok.specials;
    if (![s.image, s.fakeTokenAroundImage, s.globalImage, s.endOfUtterance, s.imStart].every((id) => Number.isInteger(id) && id >= 0)) return 'special token ids are not ids';
    const ids = tok.encode('<image>');
    if (ids.length !== 1 || ids[0] !== s.image) return '<image> does not encode whole';
    return null;
  },
  bytes: (c) => utf8(JSON.stringify(c)),
};

// ---- chat template ----

/** Jinja a hostile template might hold: unbounded loops, growth, recursion, errors. */
const HOSTILE_SNIPPETS = [
  '{% for i in range(100000000) %}x{% endfor %}',
  '{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}',
  '{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}',
  '{% macro g() %}{{ g() }}{% endmacro %}{{ g() }}',
  "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
  "{{ 'x' | indent(100000000) }}",
  "{{ raise_exception('no') }}",
  '{{ messages[0].content[5].text.upper() }}',
  '{% for m in messages %}{% for m2 in messages %}{{ m2.role }}{% endfor %}{% endfor %}',
  '{{ 2 ** 4000 }}',
  '{% if %}',
  '{{ range(10) | join(",") }}',
];

export const templateTarget: FuzzTarget<string, string> = {
  name: 'template',
  names: ['chat_template', 'chat template', 'conversation'],
  make(rng) {
    const base = rng.pick([fixture('tiny-gqa/chat_template.jinja'), DEFAULT_CHAT_TEMPLATE]);
    if (rng.chance(0.05)) return base;
    if (rng.chance(0.6)) {
      const at = rng.int(base.length + 1);
      return base.slice(0, at) + rng.pick(HOSTILE_SNIPPETS) + base.slice(at);
    }
    return new TextDecoder().decode(havoc(rng, utf8(base), 6));
  },
  run(template) {
    checkChatTemplate(template);
    return renderChat(template, [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is it?' }] }]);
  },
  check: (_t, out) => (typeof out === 'string' && out.length <= LIMITS.templateOutputChars ? null : 'rendered past the output bound'),
  bytes: utf8,
};
