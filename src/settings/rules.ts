import { InputError } from '../errors';
import { WEIGHT_FORMATS } from '../kernels/weights';
import { KV_CODECS } from '../memory/codecs/registry';
import { KV_STORE_BITS } from '../memory/frame-block';
import { RETRIEVAL_POLICIES } from '../memory/retrieval/registry';

/**
 * What each setting accepts, written once: the SDK (StreamVLM.load), the worker, the engine
 * (StreamEngine.create) and the CLI's flags all check a value with the same rule, so they accept
 * exactly the same values and refuse them in the same words (`<label> must be <rule>, not <value>`).
 * Rules that depend on the loaded model (retrievalLayer < the layer count, the positions the
 * settings need) are the engine's, checked once the model is known.
 */
export interface SettingRule {
  /** The accepted values in words, completing "must be …". */
  readonly rule: string;
  accepts(value: unknown): boolean;
}

function wholeAtLeast(min: number): SettingRule {
  return { rule: min === 1 ? 'a positive integer' : `a whole number ≥ ${min}`, accepts: (v) => Number.isInteger(v) && (v as number) >= min };
}

function oneOf(values: readonly unknown[], rule: string): SettingRule {
  return { rule, accepts: (v) => values.includes(v) };
}

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ').replace(/, ([^,]*)$/, ' or $1');

/** Every setting's rule, by its SDK / engine name. */
export const SETTING_RULES = {
  kvBits: oneOf(KV_STORE_BITS, "8, 4, 2 or 'none'"),
  fps: { rule: 'a number in (0, 60]', accepts: (v: unknown) => typeof v === 'number' && v > 0 && v <= 60 },
  windowFrames: wholeAtLeast(1),
  // 0: answer from the window alone (no recall from memory)
  topK: wholeAtLeast(0),
  maxAnswerTokens: wholeAtLeast(1),
  maxQuestionTokens: wholeAtLeast(1),
  thumbnailEdge: wholeAtLeast(8),
  queueCapacity: wholeAtLeast(1),
  memoryRamMB: { rule: 'a number ≥ 0 (Infinity: no limit)', accepts: (v: unknown) => typeof v === 'number' && v >= 0 },
  ramBudgetBytes: { rule: 'a number ≥ 0', accepts: (v: unknown) => typeof v === 'number' && v >= 0 },
  precision: oneOf(['auto', 'f16', 'f32'], quoted(['auto', 'f16', 'f32'])),
  weightFormat: oneOf(WEIGHT_FORMATS, `one of ${WEIGHT_FORMATS.join(', ')}`),
  timestamps: oneOf(['auto', 'frames'], quoted(['auto', 'frames'])),
  frameResize: oneOf(['video', 'image'], quoted(['video', 'image'])),
  kvCodec: oneOf(Object.keys(KV_CODECS), quoted(Object.keys(KV_CODECS))),
  retrieval: oneOf(Object.keys(RETRIEVAL_POLICIES), quoted(Object.keys(RETRIEVAL_POLICIES))),
  answerContext: oneOf(['reprefill', 'restore'], quoted(['reprefill', 'restore'])),
  rankingThreads: { rule: "'auto' or a whole number from 0 to 16", accepts: (v: unknown) => v === 'auto' || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 16) },
} satisfies Record<string, SettingRule>;

export type SettingName = keyof typeof SETTING_RULES;

/** InputError `<label> must be <rule>, not <value>` unless `value` is undefined (left to the default) or accepted. */
export function checkSetting(name: SettingName, value: unknown, label: string): void {
  if (value === undefined) return;
  const r: SettingRule = SETTING_RULES[name];
  if (!r.accepts(value)) throw new InputError(`${label} must be ${r.rule}, not ${String(value)}`);
}
