import { KV_STORE_BITS } from '../memory/frame-block';
import { checkOptionValues, type StreamVLMOptions } from '../sdk/options';
import { option, type ParsedArgs } from './args';

/**
 * The CLI's flags that are StreamVLM.load options, by SDK name. They are checked by the SDK's own
 * rules (checkOptionValues), so the CLI and the SDK accept the same values; a refusal names the flag.
 */
export const SDK_FLAGS = {
  fps: 'fps',
  window: 'windowFrames',
  'kv-bits': 'kvBits',
  'top-k': 'topK',
  'max-new-tokens': 'maxAnswerTokens',
  'frame-resize': 'frameResize',
  'memory-ram-mb': 'memoryRamMB',
  weights: 'weightFormat',
  precision: 'precision',
  'ranking-threads': 'rankingThreads',
} as const satisfies Record<string, keyof StreamVLMOptions>;

export type SdkFlag = keyof typeof SDK_FLAGS;

const NUMERIC = new Set<keyof StreamVLMOptions>(['fps', 'windowFrames', 'topK', 'maxAnswerTokens', 'memoryRamMB']);

/**
 * A flag's text as the SDK's value: a number where the SDK takes one (text that is not a number
 * stays text, so the SDK's check refuses it and the message shows what was typed), `--kv-bits 4`
 * as 4 and `none` as 'none'.
 */
function sdkValue(key: keyof StreamVLMOptions, raw: string): unknown {
  if (NUMERIC.has(key)) {
    const n = Number(raw);
    return raw.trim() === '' || Number.isNaN(n) ? raw : n;
  }
  if (key === 'kvBits') return KV_STORE_BITS.find((b) => String(b) === raw) ?? raw;
  if (key === 'rankingThreads' && /^\d+$/.test(raw)) return Number(raw);
  return raw;
}

/** The given flags among `names` as StreamVLMOptions, checked; absent flags are left undefined. */
export function sdkOptionsFrom(args: ParsedArgs, names: readonly SdkFlag[]): StreamVLMOptions {
  const out: Record<string, unknown> = {};
  const flagOf = new Map<string, string>();
  for (const name of names) {
    const raw = option(args, name);
    if (raw === undefined) continue;
    out[SDK_FLAGS[name]] = sdkValue(SDK_FLAGS[name], raw);
    flagOf.set(SDK_FLAGS[name], name);
  }
  // `--kv-bits must be 8, 4, 2 or 'none', not 3`: the SDK's rule under the flag's name
  checkOptionValues(out as StreamVLMOptions, (key) => `--${flagOf.get(key) ?? key}`);
  return out as StreamVLMOptions;
}
