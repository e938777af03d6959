import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { InputError, ModelLoadError } from '../../src/errors';
import { parseConfig } from '../../src/model/config';
import { DEFAULT_CHAT_TEMPLATE, findChatTemplate, renderChat, type ChatMessage } from '../../src/model/chat-template';
import { imageLayout, imageTokenCount, resizeForVisionEncoder, resizeLongestEdge } from '../../src/model/image-geometry';
import { parseProcessorConfig } from '../../src/model/processor-config';
import { buildPromptIds, expandPrompt, frameTimestamp, numberToWords, timedeltaString, videoPromptString } from '../../src/model/prompt';
import { SmolVlmTokenizer } from '../../src/model/tokenizer';

// Parity with transformers 5 (tools/fixtures/make_fixtures.py): every fixture case's prompt text and
// input ids are rebuilt from its messages and image sizes with our template, geometry and expansion.
const dir = (name: string) => `tools/fixtures/${name}`;
const read = (name: string, file: string) => readFileSync(`${dir(name)}/${file}`, 'utf8');

interface Case {
  prompt: string;
  input_ids: number[];
  image_sizes: [number, number][];
  pixel_values: { file: string; shape: number[] };
}

function load(name: string) {
  const config = parseConfig(read(name, 'config.json'));
  const processor = parseProcessorConfig({ processorConfig: read(name, 'processor_config.json') }, config);
  const tokenizer = SmolVlmTokenizer.fromJson(read(name, 'tokenizer.json'), read(name, 'tokenizer_config.json'));
  const template = findChatTemplate({
    chatTemplateJinja: read(name, 'chat_template.jinja'),
    processorConfig: read(name, 'processor_config.json'),
    tokenizerConfig: read(name, 'tokenizer_config.json'),
  });
  const expected = JSON.parse(read(name, 'expected.json')) as { image_seq_len: number; image_token_id: number; cases: Record<string, Case> };
  return { config, processor, tokenizer, template, expected };
}

// The messages make_fixtures.py used for each image case.
const IMAGE_CASES: Record<string, ChatMessage[]> = {
  image: [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Can you describe this image?' }] }],
  image_other: [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Can you describe this image?' }] }],
  two_images: [{ role: 'user', content: [{ type: 'image' }, { type: 'image' }, { type: 'text', text: 'What is different?' }] }],
};
const VIDEO_MESSAGES: ChatMessage[] = [{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: 'What happened in this video?' }] }];

for (const name of ['tiny-gqa', 'tiny-split']) {
  test(`${name}: processor config, tokenizer and template load`, () => {
    const { config, processor, tokenizer, template, expected } = load(name);
    expect(processor.layout).toBe('transformers5');
    expect(processor.imageSeqLen).toBe(expected.image_seq_len);
    expect(processor.imageSeqLen).toBe(config.imageSeqLen);
    expect(processor.image.doImageSplitting).toBe(name === 'tiny-split');
    expect(processor.image.maxImageSize).toBe(config.vision.imageSize);
    expect(processor.video).toMatchObject({ fps: 1, maxFrames: 8, maxImageSize: config.vision.imageSize });
    expect(tokenizer.specials.image).toBe(expected.image_token_id);
    tokenizer.assertMatchesConfig(config);
    expect(tokenizer.maxGridSide).toBe(6);
    expect(tokenizer.encode('<|im_start|>')).toEqual([tokenizer.specials.imStart]);
    expect(tokenizer.stopIds).toEqual([tokenizer.specials.endOfUtterance]);
    expect(template).toBe(read(name, 'chat_template.jinja'));
  });

  test(`${name}: image geometry gives the tile counts transformers produced`, () => {
    const { config, processor, expected } = load(name);
    const tile = config.vision.imageSize;
    for (const caseName of ['image', 'image_other', 'two_images']) {
      const c = expected.cases[caseName];
      const tiles = c.image_sizes.reduce((n, [w, h]) => n + imageLayout({ width: w, height: h }, processor.image).tiles, 0);
      const bytes = readFileSync(`${dir(name)}/${c.pixel_values.file}`).length;
      expect(bytes / 4 / (3 * tile * tile), caseName).toBe(tiles);
      expect(c.pixel_values.shape[0], caseName).toBe(tiles);
    }
  });

  for (const caseName of ['image', 'image_other', 'two_images']) {
    test(`${name} ${caseName}: rendered prompt and token ids equal transformers'`, () => {
      const { processor, tokenizer, template, expected } = load(name);
      const c = expected.cases[caseName];
      const rendered = renderChat(template, IMAGE_CASES[caseName], { addGenerationPrompt: true });
      expect(rendered).toBe(c.prompt); // `prompt` is the chat-template output before expansion
      const images = c.image_sizes.map(([w, h]) => imageLayout({ width: w, height: h }, processor.image));
      const built = buildPromptIds(tokenizer, rendered, { images, imageSeqLen: processor.imageSeqLen });
      expect(built.ids).toEqual(c.input_ids);
      const tiles = images.reduce((n, l) => n + l.tiles, 0);
      expect(built.imageTokens).toBe(tiles * processor.imageSeqLen);
      // the tiny tokenizers have no "\n\n" merge (the hub's has): the count formula covers both
      const textOnly = tokenizer.encode(rendered.replaceAll('<image>', '')).length;
      const perImage = images.map((l) => imageTokenCount(l.rows, l.cols, processor.imageSeqLen, tokenizer.encode('\n\n').length === 1));
      expect(built.ids.length).toBe(textOnly + perImage.reduce((a, b) => a + b, 0));
    });
  }

  test(`${name} video: the video layout rebuilds transformers' prompt text, then ids`, () => {
    const { processor, tokenizer, template, expected } = load(name);
    const c = expected.cases.video;
    const frames = c.image_sizes.length;
    const rendered = renderChat(template, VIDEO_MESSAGES, { addGenerationPrompt: true });
    expect(rendered).toBe('<|im_start|>User: <video>What happened in this video?<end_of_utterance>\nAssistant:');
    // make_fixtures.py: frames at 1 fps, duration = frame count seconds
    const video = { timestamps: Array.from({ length: frames }, (_, i) => i / processor.video.fps), durationSeconds: frames };
    const built = buildPromptIds(tokenizer, rendered, { videos: [video], imageSeqLen: processor.imageSeqLen });
    expect(built.text).toBe(c.prompt);
    expect(built.ids).toEqual(c.input_ids);
    expect(built.imageTokens).toBe(frames * processor.imageSeqLen);
  });
}

test('split geometry: tiny-split sizes step by step, and the hub 2048/512 worked examples', () => {
  const tiny = { doResize: true, doImageSplitting: true, longestEdge: 64, maxImageSize: 32 };
  expect(imageLayout({ width: 75, height: 50 }, tiny)).toEqual({
    input: { width: 75, height: 50 }, stage1: { width: 64, height: 42 }, stage2: { width: 64, height: 64 }, rows: 2, cols: 2, tiles: 5,
  });
  expect(imageLayout({ width: 40, height: 90 }, tiny)).toMatchObject({ stage1: { width: 28, height: 64 }, stage2: { width: 32, height: 64 }, rows: 2, cols: 1, tiles: 3 });
  const hub = { doResize: true, doImageSplitting: true, longestEdge: 2048, maxImageSize: 512 };
  // spec §4: 100×80 → 2048×1638 → 2048×2048 → 17 tiles; square → 4×4
  expect(resizeLongestEdge({ width: 100, height: 80 }, 2048)).toEqual({ width: 2048, height: 1638 });
  expect(imageLayout({ width: 100, height: 80 }, hub)).toMatchObject({ stage2: { width: 2048, height: 2048 }, rows: 4, cols: 4, tiles: 17 });
  expect(imageLayout({ width: 640, height: 480 }, hub)).toMatchObject({ stage1: { width: 2048, height: 1536 }, stage2: { width: 2048, height: 1536 }, rows: 3, cols: 4, tiles: 13 });
  expect(imageLayout({ width: 300, height: 301 }, hub)).toMatchObject({ stage1: { width: 2042, height: 2048 }, rows: 4, cols: 4 });
  expect(resizeForVisionEncoder({ width: 2048, height: 1000 }, 512)).toEqual({ width: 2048, height: 1024 });
  expect(imageLayout({ width: 640, height: 480 }, { ...hub, doImageSplitting: false })).toMatchObject({ stage2: { width: 512, height: 512 }, rows: 0, cols: 0, tiles: 1 });
  expect(imageTokenCount(4, 4, 64)).toBe(1127);
  expect(imageTokenCount(0, 0, 64)).toBe(67);
  expect(() => imageLayout({ width: 0, height: 10 }, hub)).toThrow(InputError);
});

test('video text helpers match num2words, str(timedelta) and the processor timestamp format', () => {
  expect([1, 4, 9, 13, 20, 21, 40, 64, 99, 100, 105, 342, 999].map(numberToWords)).toEqual([
    'one', 'four', 'nine', 'thirteen', 'twenty', 'twenty-one', 'forty', 'sixty-four', 'ninety-nine', 'one hundred', 'one hundred and five',
    'three hundred and forty-two', 'nine hundred and ninety-nine',
  ]);
  expect(() => numberToWords(1000)).toThrow(InputError);
  expect(timedeltaString(9)).toBe('0:00:09');
  expect(timedeltaString(3725)).toBe('1:02:05');
  expect(timedeltaString(90061)).toBe('1 day, 1:01:01');
  expect(frameTimestamp(0)).toBe('00:00');
  expect(frameTimestamp(75.9)).toBe('01:15');
  // spec §3.3 / transformers' integration test: 9 frames of a 9.3 s clip
  const text = videoPromptString({ timestamps: [0, 1, 2, 3, 4, 5, 6, 8, 9], durationSeconds: 9.3 }, 64);
  expect(text.startsWith('You are provided the following series of nine frames from a 0:00:09 [H:MM:SS] video.\n\nFrame from 00:00:<fake_token_around_image><global-img><image>')).toBe(true);
  expect(text.endsWith('<image><fake_token_around_image>\n\n')).toBe(true);
  expect(text.split('<image>').length - 1).toBe(9 * 64);
});

// The hub's transformers-4 flat preprocessor_config.json (SmolVLM2), with its separate small processor_config.json.
const HUB_PREPROCESSOR = {
  do_convert_rgb: true, do_image_splitting: true, do_normalize: true, do_pad: true, do_rescale: true, do_resize: true,
  image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'SmolVLMImageProcessor',
  max_image_size: { longest_edge: 512 }, processor_class: 'SmolVLMProcessor', resample: 1, rescale_factor: 1 / 255,
  size: { longest_edge: 2048 }, video_sampling: { fps: 1, max_frames: 64, video_size: { longest_edge: 512 } },
};
const HUB_CONFIG = {
  model_type: 'smolvlm', image_token_id: 49190, scale_factor: 4,
  vision_config: { hidden_size: 768, num_attention_heads: 12, image_size: 512, patch_size: 16 },
  text_config: { hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, vocab_size: 49280 },
};

test('processor config: transformers-4 flat layout (hub), image_seq_len from either file or config.json', () => {
  const config = parseConfig(JSON.stringify(HUB_CONFIG));
  const p = parseProcessorConfig({ preprocessorConfig: JSON.stringify(HUB_PREPROCESSOR) }, config);
  expect(p.layout).toBe('transformers4');
  expect(p.image).toEqual({
    doConvertRgb: true, doResize: true, doImageSplitting: true, doRescale: true, doNormalize: true, doPad: true,
    longestEdge: 2048, maxImageSize: 512, resample: 1, rescaleFactor: 1 / 255, imageMean: [0.5, 0.5, 0.5], imageStd: [0.5, 0.5, 0.5],
  });
  // transformers builds the video processor from this same dict: its `size` overrides video_size (spec §5)
  expect(p.video).toMatchObject({ fps: 1, maxFrames: 64, longestEdge: 2048, maxImageSize: 512 });
  expect(p.imageSeqLen).toBe(64); // derived from config.json
  const withSeq = parseProcessorConfig({
    preprocessorConfig: JSON.stringify(HUB_PREPROCESSOR),
    processorConfig: JSON.stringify({ image_seq_len: 64, processor_class: 'SmolVLMProcessor', chat_template: '<|im_start|>x' }),
  }, config);
  expect(withSeq.layout).toBe('transformers4');
  expect(withSeq.imageSeqLen).toBe(64);
  expect(withSeq.chatTemplate).toBe('<|im_start|>x');
  const { video_sampling: _v, size: _s, ...noVideo } = HUB_PREPROCESSOR;
  expect(parseProcessorConfig({ preprocessorConfig: JSON.stringify(noVideo) }, config).video).toMatchObject({ fps: 1, maxFrames: 64, longestEdge: 512 });
  // a nested (transformers 5) file of the same model gives the same image settings
  const nested = parseProcessorConfig({ processorConfig: JSON.stringify({ image_processor: HUB_PREPROCESSOR, image_seq_len: 64 }) }, config);
  expect(nested.layout).toBe('transformers5');
  expect(nested.image).toEqual(p.image);
});

test('malformed processor configs are refused, naming the file', () => {
  const config = parseConfig(JSON.stringify(HUB_CONFIG));
  const flat = (o: object) => () => parseProcessorConfig({ preprocessorConfig: JSON.stringify({ ...HUB_PREPROCESSOR, ...o }) }, config);
  expect(() => parseProcessorConfig({ preprocessorConfig: '{"size": ' }, config)).toThrow(ModelLoadError);
  expect(() => parseProcessorConfig({ preprocessorConfig: '{"size": ' }, config)).toThrow(/^preprocessor_config\.json: not valid JSON/);
  expect(() => parseProcessorConfig({ processorConfig: '[1, 2]' }, config)).toThrow(/^processor_config\.json: not a JSON object/);
  expect(flat({ do_image_splitting: 'yes' })).toThrow(/preprocessor_config\.json: do_image_splitting must be true or false/);
  expect(flat({ size: { height: 512, width: 512 } })).toThrow(/size must be \{"longest_edge": n\}/);
  expect(flat({ image_mean: [0.5, 0.5] })).toThrow(/image_mean must be a list of 3 numbers/);
  expect(flat({ rescale_factor: '1/255' })).toThrow(/rescale_factor must be a number/);
  expect(flat({ video_sampling: { fps: 0 } })).toThrow(/video_sampling\.fps must be positive/);
  expect(flat({ max_image_size: { longest_edge: 384 } })).toThrow(/differs from the vision encoder's image_size 512/);
  expect(() => parseProcessorConfig({ processorConfig: JSON.stringify({ image_processor: { do_resize: 1 } }) }, config)).toThrow(/processor_config\.json: image_processor\.do_resize/);
  expect(() => parseProcessorConfig({ processorConfig: JSON.stringify({ image_seq_len: 169 }), preprocessorConfig: JSON.stringify(HUB_PREPROCESSOR) }, config))
    .toThrow(/processor_config\.json: image_seq_len 169 disagrees with config\.json/);
  expect(() => parseProcessorConfig({ processorConfig: JSON.stringify({ image_seq_len: 64, chat_template: 3 }), preprocessorConfig: JSON.stringify(HUB_PREPROCESSOR) })).toThrow(/chat_template must be a string/);
  expect(() => parseProcessorConfig({ preprocessorConfig: JSON.stringify(HUB_PREPROCESSOR) })).toThrow(/no image_seq_len/);
  // hub transformers-4 folder without its preprocessor_config.json: the small processor_config.json is not enough
  expect(() => parseProcessorConfig({ processorConfig: JSON.stringify({ image_seq_len: 64 }) }, config))
    .toThrow(/^preprocessor_config\.json: missing, and processor_config\.json has no image_processor section/);
  expect(() => parseProcessorConfig({}, config)).toThrow(/^preprocessor_config\.json: missing/);
});

test('a tokenizer without the image tokens is refused, naming tokenizer.json', () => {
  const json = JSON.parse(read('tiny-gqa', 'tokenizer.json'));
  const withoutImage = { ...json, added_tokens: json.added_tokens.filter((t: { content: string }) => t.content !== '<image>') };
  delete withoutImage.model.vocab['<image>'];
  expect(() => SmolVlmTokenizer.fromJson(JSON.stringify(withoutImage))).toThrow(ModelLoadError);
  expect(() => SmolVlmTokenizer.fromJson(JSON.stringify(withoutImage))).toThrow(/^tokenizer\.json: has no <image> token/);
  expect(() => SmolVlmTokenizer.fromJson('{"model": ')).toThrow(/^tokenizer\.json: not valid JSON/);
  expect(() => SmolVlmTokenizer.fromJson(read('tiny-gqa', 'tokenizer.json'), '{')).toThrow(/^tokenizer_config\.json: not valid JSON/);
  expect(() => SmolVlmTokenizer.fromJson('{"version": "1.0"}')).toThrow(/^tokenizer\.json: has no "model" section/);
  const tok = SmolVlmTokenizer.fromJson(read('tiny-gqa', 'tokenizer.json'));
  const other = parseConfig(JSON.stringify(HUB_CONFIG));
  expect(() => tok.assertMatchesConfig(other)).toThrow(/image_token_id 49190/);
  expect(tok.decode(tok.encode('<|im_start|>User: hi<end_of_utterance>'))).toBe('<|im_start|>User: hi<end_of_utterance>');
});

test('chat template: template lookup, video forces the default, placeholder count mismatches are input errors', () => {
  expect(findChatTemplate({ tokenizerConfig: JSON.stringify({ chat_template: 'T' }) })).toBe('T');
  expect(findChatTemplate({ chatTemplateJson: JSON.stringify({ chat_template: 'J' }), tokenizerConfig: JSON.stringify({ chat_template: 'T' }) })).toBe('J');
  expect(findChatTemplate({ tokenizerConfig: JSON.stringify({ chat_template: [{ name: 'default', template: 'D' }] }) })).toBe('D');
  expect(findChatTemplate({ tokenizerConfig: '{}' })).toBeUndefined();
  expect(() => findChatTemplate({ tokenizerConfig: '{' })).toThrow(/^tokenizer_config\.json: not valid JSON/);
  const hub = read('tiny-gqa', 'chat_template.jinja');
  // the hub template has no video branch: with a video it would drop the placeholder
  expect(renderChat(hub, VIDEO_MESSAGES)).toContain('<video>');
  expect(renderChat(undefined, [{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'hi' }], { addGenerationPrompt: false }))
    .toBe('<|im_start|>User: hello<end_of_utterance>\nAssistant: hi<end_of_utterance>\n');
  expect(renderChat(hub, [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'x' }] }])).toBe(
    renderChat(DEFAULT_CHAT_TEMPLATE, [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'x' }] }]),
  );
  expect(() => renderChat(hub, [])).toThrow(InputError);
  expect(() => expandPrompt('<image><image>', { images: [{ rows: 0, cols: 0 }], imageSeqLen: 4 })).toThrow(InputError);
  expect(() => expandPrompt('<image>', { images: [{ rows: 0, cols: 0 }, { rows: 0, cols: 0 }], imageSeqLen: 4 })).toThrow(/2 image\(s\) given but the prompt has 1/);
  expect(() => expandPrompt('<video>', { imageSeqLen: 4 })).toThrow(InputError);
  const tok = SmolVlmTokenizer.fromJson(read('tiny-split', 'tokenizer.json'));
  expect(() => buildPromptIds(tok, '<image>', { images: [{ rows: 7, cols: 2 }], imageSeqLen: 4 })).toThrow(/<row_7_col_2>/);
});
