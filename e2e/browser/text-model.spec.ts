import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { useSharedHarness } from '../support/harness-page';

// The Llama text decoder against transformers (tools/fixtures): for every case, the prompt's ids
// with the fixture's connector output as the image features (so the vision tower is not involved),
// merged, prefilled and greedily decoded on WebGPU.

const MODELS = ['tiny-gqa', 'tiny-split'] as const;


interface Expected {
  cases: Record<string, { generated: number[]; logits_summary: { sum: number; abs_sum: number; first: number[] } }>;
}

function expectedOf(model: string): Expected {
  return JSON.parse(readFileSync(new URL(`../../tools/fixtures/${model}/expected.json`, import.meta.url), 'utf8'));
}

// One page for the file: the decoder's pipelines compile once for every test (compiling dominates
// on a CPU adapter). The checkpoint loader probes for the optional shard index; its 404 is expected.
/** The file's one harness page (its error list emptied for each test). */
const openHarness = useSharedHarness('text', { expected: (m) => m.location().url.endsWith('/model.safetensors.index.json') });

// Prompt logits on one case per model: tiny-gqa's video (the longest prompt) and tiny-split's image
// (split tiles, tied head). The other cases are the same decoder on other prompts; e2e/browser/pipeline.spec.ts
// checks every case's tokens, and bench/parity-node.ts every case's logits on a GPU.
const LOGIT_CASES: Record<string, string> = { 'tiny-gqa': 'video', 'tiny-split': 'image' };

for (const model of MODELS) {
  const expected = expectedOf(model);
  for (const [caseName, c] of Object.entries(expected.cases).filter(([name]) => LOGIT_CASES[model] === name)) {
    test(`${model} / ${caseName}: prefill logits and 12 greedy tokens match transformers`, async () => {
      const { page, errors } = await openHarness();
      const r = await page.evaluate(([m, cn]) => window.textHarness.runCase(m, cn, 'f32'), [model, caseName] as const);
      console.log(
        `${model}/${caseName}: T=${r.tokens} last-logits max|e|=${r.lastLogitsMaxAbs.toExponential(2)} ` +
          `sum=${r.allLogitsSum.toFixed(3)} (expected ${c.logits_summary.sum.toFixed(3)}) all-vs-last=${r.allVsLastMaxAbs.toExponential(2)} ` +
          `generated=${JSON.stringify(r.generated)} (${r.ms.toFixed(0)} ms)`,
      );
      expect(r.lastLogitsMaxAbs).toBeLessThanOrEqual(1e-3);
      expect(r.top).toBe(r.expectedTop);
      // whole-prompt summary: f32 sums of T·V logits, so a tolerance relative to the magnitudes summed
      expect(Math.abs(r.allLogitsSum - c.logits_summary.sum)).toBeLessThanOrEqual(1e-5 * c.logits_summary.abs_sum + 1e-2);
      r.firstLogits.forEach((v, i) => expect(Math.abs(v - c.logits_summary.first[i])).toBeLessThanOrEqual(1e-3));
      expect(r.allVsLastMaxAbs).toBeLessThanOrEqual(1e-4);
      // transformers stops after an eos token (and keeps it); otherwise all 12
      const stop = c.generated.findIndex((id) => r.eos.includes(id));
      const want = stop >= 0 ? c.generated.slice(0, stop + 1) : c.generated;
      expect(r.generated).toEqual(want);
      // steps queued past an eos leave no trace: the cache holds the prompt and the tokens before the
      // last, and decoding on from it continues the same answer
      expect(r.earlyStop.tokens).toEqual(c.generated.slice(0, 3));
      expect(r.earlyStop.cacheRows).toBe(r.tokens + 2);
      expect(r.earlyStop.continued).toEqual(c.generated.slice(3, 12));
      // a decode step is five dispatches a layer (q/k/v with its norm, attention, the o projection
      // merging attention's splits with the residual, gate/up with its norm, down with silu·up and
      // the residual) and the head: attention's combine does not run on its own
      expect(r.decodeDispatches).toBe(5 * r.layers + 1);
      // over a long cache (more splits than MATVEC_ATTENTION_MAX_SPLITS) combine runs on its own:
      // the fusion's merge would be redone by every workgroup of the projection
      expect(r.longDecodeDispatches).toBe(6 * r.layers + 1);
      expect(errors).toEqual([]);
    });
  }
}

test('decode steps from a step plan record what the code records, through key splits, greedy and sampled', async () => {
  const { page, errors } = await openHarness();
  const steps = 72;
  const r = await page.evaluate((n) => window.textHarness.stepPlan('tiny-gqa', 'video', n), steps);
  console.log(`step plan: ${r.planReplayed} of ${steps - 1} decode steps from the plan, ${r.compared} compared over ${r.splitKeys} key splits`);
  // every step the plan recorded is, command for command and word for word, what the code records
  expect(r.mismatches).toEqual([]);
  expect(r.compared).toBeGreaterThanOrEqual(steps / 2);
  // the walk crossed key splits (a new plan each) and the plan went on past them
  expect(r.splitKeys).toBeGreaterThanOrEqual(2);
  expect(r.fromPlan).toEqual(r.byCode);
  expect(r.fromPlan).toHaveLength(steps);
  expect(r.planReplayed).toBeGreaterThanOrEqual(steps / 2);
  expect(r.planReplayed + r.planRecorded).toBe(steps - 1);
  // a sampled answer reads each step's draw from a buffer written before its submit: its steps
  // come from the plan too, with the same tokens
  console.log(`sampled (seed 7): ${JSON.stringify(r.sampled.byCode)}`);
  expect(r.sampled.planReplayed).toBeGreaterThanOrEqual(steps / 2);
  expect(r.sampled.withPlan).toEqual(r.sampled.byCode);
  expect(errors).toEqual([]);
});

test('a missing text tensor is a ModelLoadError naming it', async () => {
  const { page } = await openHarness();
  const extra = await page.evaluate(() => window.textHarness.loadError('tiny-gqa', 'extra-layer'));
  expect(extra?.name).toBe('ModelLoadError');
  expect(extra?.code).toBe('MODEL_LOAD');
  expect(extra?.message).toContain('model.text_model.layers.2.input_layernorm.weight');
  // tiny-split has no lm_head.weight: fine while tied, an error once the config says untied
  const untied = await page.evaluate(() => window.textHarness.loadError('tiny-split', 'untie'));
  expect(untied?.name).toBe('ModelLoadError');
  expect(untied?.message).toContain('lm_head.weight');
});

test('a step that does not fit in the KV cache is an InputError and leaves the cache as it was', async () => {
  const { page } = await openHarness();
  const r = await page.evaluate(() => window.textHarness.cacheOverflow('tiny-gqa'));
  expect(r.error?.name).toBe('InputError');
  expect(r.error?.message).toContain('capacity of 8');
  expect(r.lengthAfter).toBe(6);
});
