import type { StreamVLMOptions } from '../src/index';

/**
 * Settings from the page's address. `?model=<hub id or folder URL>` picks another model (a test
 * model served locally, a fine-tune); the rest are the SDK's options by their short names, plus
 * `maxFrames` (stop watching after that many frames), which the e2e uses for a deterministic stream:
 * `?model=/tools/fixtures/tiny-gqa/&kvBits=none&window=8&frameResize=image&timestamps=frames&maxFrames=3&weights=f32&precision=f32`.
 */
export interface PageSettings {
  /** The model from `?model=`, or null for the picker's choice. */
  model: string | null;
  options: Omit<StreamVLMOptions, 'onProgress'>;
  /** Stop capturing after this many frames were sent (null: watch until paused). */
  maxFrames: number | null;
  /** Longest answer (default the SDK's). */
  maxTokens: number | undefined;
}

function positiveInt(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  // a bad value is passed on as NaN so that the SDK's option check names it
  return Number.isInteger(n) && n > 0 ? n : NaN;
}

export function readPageSettings(search: string): PageSettings {
  const params = new URLSearchParams(search);
  const options: Omit<StreamVLMOptions, 'onProgress'> = {};
  const kvBits = params.get('kvBits');
  if (kvBits !== null) options.kvBits = (kvBits === 'none' ? 'none' : Number(kvBits)) as StreamVLMOptions['kvBits'];
  const fps = params.get('fps');
  if (fps !== null) options.fps = Number(fps);
  options.windowFrames = positiveInt(params, 'window');
  options.topK = positiveInt(params, 'topK');
  const maxTokens = positiveInt(params, 'maxTokens');
  options.maxAnswerTokens = maxTokens;
  const frameResize = params.get('frameResize');
  if (frameResize !== null) options.frameResize = frameResize as StreamVLMOptions['frameResize'];
  const timestamps = params.get('timestamps');
  if (timestamps !== null) options.timestamps = timestamps as StreamVLMOptions['timestamps'];
  const precision = params.get('precision');
  if (precision !== null) options.precision = precision as StreamVLMOptions['precision'];
  const weights = params.get('weights');
  if (weights !== null) options.weightFormat = weights as StreamVLMOptions['weightFormat'];
  if (params.get('cache') === 'off') options.cache = false;
  for (const key of Object.keys(options) as (keyof typeof options)[]) if (options[key] === undefined) delete options[key];
  const model = params.get('model');
  const maxFrames = positiveInt(params, 'maxFrames');
  return { model: model && model.trim() ? model.trim() : null, options, maxFrames: maxFrames && Number.isFinite(maxFrames) ? maxFrames : null, maxTokens };
}
