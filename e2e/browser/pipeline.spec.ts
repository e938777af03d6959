import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { useSharedHarness } from '../support/harness-page';

// The whole product path against transformers (tools/fixtures): the case's PNGs decoded in the
// page, SmolVlm.generate builds the prompt from the real tile layout, runs the vision tower and
// connector on every tile / frame, merges, prefills and decodes 12 greedy tokens. The prompt ids
// and the tokens must equal what transformers produced, exactly.

const MODELS = ['tiny-gqa', 'tiny-split'] as const;
const CASES = ['image', 'image_other', 'two_images', 'video'] as const;

interface Expected {
  cases: Record<string, { input_ids: number[]; prompt: string; generated: number[] }>;
}

function expectedOf(model: string): Expected {
  return JSON.parse(readFileSync(new URL(`../../tools/fixtures/${model}/expected.json`, import.meta.url), 'utf8'));
}

// One page for the file: each model loads once and serves every case and test (loading and
// compiling the pipelines dominate on a CPU adapter).
/** The file's one harness page (its error list emptied for each test). */
const openHarness = useSharedHarness('pipeline', { modelFolders: true });

for (const model of MODELS) {
  const expected = expectedOf(model);
  test(`${model}: pixels → prompt ids and 12 greedy tokens equal transformers' for every case`, async () => {
    test.setTimeout(300_000);
    const { page, errors } = await openHarness();
    for (const caseName of CASES) {
      const c = expected.cases[caseName];
      await test.step(caseName, async () => {
        // the fixtures' video frames went through the image processor unsplit (make_fixtures.py)
        const r = await page.evaluate(([m, cn]) => window.pipelineHarness.runCase(m, cn, 'image'), [model, caseName] as const);
        console.log(`${model}/${caseName}: T=${r.promptIds.length} generated=${JSON.stringify(r.tokens)} expected=${JSON.stringify(c.generated)} (${r.ms.toFixed(0)} ms)`);
        expect.soft(r.promptIds, `${caseName} prompt ids`).toEqual(c.input_ids);
        if (caseName === 'video') expect.soft(r.promptText, 'video prompt text').toBe(c.prompt);
        expect.soft(r.tokens, `${caseName} tokens`).toEqual(c.generated);
        expect.soft(r.streamed, `${caseName} streamed tokens`).toEqual(r.tokens);
      });
    }
    expect(errors).toEqual([]);
  });
}

test('sampling: top-k 1 is greedy; a seed reproduces a sampled answer; a bad temperature is an InputError', async () => {
  test.setTimeout(200_000);
  const { page, errors } = await openHarness();
  const greedy = expectedOf('tiny-gqa').cases.image.generated;
  const run = (sampling: object) => page.evaluate(([s]) => window.pipelineHarness.runCase('tiny-gqa', 'image', 'image', s as never), [sampling] as const);
  expect((await run({ temperature: 0.7, topK: 1, seed: 1 })).tokens).toEqual(greedy);
  const a = await run({ temperature: 1.5, topP: 0.95, seed: 42 });
  const b = await run({ temperature: 1.5, topP: 0.95, seed: 42 });
  console.log(`sampled (T 1.5, top-p 0.95, seed 42): ${JSON.stringify(a.tokens)} vs greedy ${JSON.stringify(greedy)}`);
  expect(b.tokens).toEqual(a.tokens);
  expect(a.tokens).not.toEqual(greedy); // at T 1.5 over a random model's flat distribution, 12 draws all equal to argmax would be a broken sampler
  const bad = await page.evaluate(() => window.pipelineHarness.runCase('tiny-gqa', 'image', 'image', { temperature: 0 }).then(() => 'no error', (e: Error) => e.name));
  expect(bad).toBe('InputError');
  expect(errors).toEqual([]);
});

test('a model folder that does not exist is a ModelLoadError naming config.json', async () => {
  const { page } = await openHarness();
  const r = await page.evaluate(() => window.pipelineHarness.loadError('missing-folder'));
  expect(r).not.toBeNull();
  expect(r!.name).toBe('ModelLoadError');
  expect(r!.code).toBe('MODEL_LOAD');
  expect(r!.file).toBe('config.json');
  expect(r!.message).toContain('config.json');
});

test('a config with an unsupported model_type is an UnsupportedModelError', async () => {
  const { page } = await openHarness();
  const r = await page.evaluate(() => window.pipelineHarness.loadError('bad-model-type'));
  expect(r).not.toBeNull();
  expect(r!.name).toBe('UnsupportedModelError');
  expect(r!.code).toBe('UNSUPPORTED_MODEL');
  expect(r!.message).toContain('llava');
});

// The product's default frame resize is SmolVLMVideoProcessor's (video longest edge, then the
// tile square); the fixtures' frames went through the image processor. Where the two agree
// (tiny-gqa: both 64 px) the tokens must match too. (tiny-split's resizes differ, 64 vs 32 px first,
// so only its prompt could be compared — and a video prompt's ids do not depend on the resize: each
// frame is image_seq_len tokens either way — so it is not run a second time.)
test(`tiny-gqa / video with the video processor's resize: same prompt ids and tokens`, async () => {
  const c = expectedOf('tiny-gqa').cases.video;
  const { page } = await openHarness();
  const r = await page.evaluate(() => window.pipelineHarness.runCase('tiny-gqa', 'video', 'video'));
  expect(r.promptIds).toEqual(c.input_ids);
  expect(r.tokens).toEqual(c.generated);
});
