import { InputError } from '../errors';
import { FAKE_TOKEN, GLOBAL_IMAGE_TOKEN, IMAGE_TOKEN, rowColToken, type SmolVlmTokenizer } from './tokenizer';

/**
 * SmolVLMProcessor's placeholder expansion (spec §3.2, §3.3): each `<image>` in the rendered prompt
 * becomes the image's token layout (tiles + global image), each `<video>` the video layout
 * (intro, one timestamped unsplit image per frame, outro), then the text is tokenized.
 */
export interface ImageGrid {
  /** Tile rows and columns; 0/0 for an unsplit image (see image-geometry imageLayout). */
  rows: number;
  cols: number;
}

export interface VideoPromptInfo {
  /** Time of each sampled frame in seconds (frame_index / video_fps). */
  timestamps: readonly number[];
  /** Video duration in seconds; whole seconds are shown (Python int()). */
  durationSeconds: number;
}

export const VIDEO_TOKEN = '<video>';

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** English cardinal words as Python's num2words writes them, for 0..999 ('twenty-one', 'one hundred and five'). */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 999) throw new InputError(`numberToWords supports whole numbers 0..999, got ${n}`);
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? `-${ONES[n % 10]}` : '');
  const rest = n % 100;
  return `${ONES[Math.floor(n / 100)]} hundred` + (rest ? ` and ${numberToWords(rest)}` : '');
}

/** Python's `str(datetime.timedelta(seconds=s))` for whole s ≥ 0: 'H:MM:SS', or 'D day(s), H:MM:SS'. */
export function timedeltaString(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new InputError(`duration must be whole seconds ≥ 0, got ${seconds}`);
  const days = Math.floor(seconds / 86400);
  const s = seconds % 86400;
  const hms = `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return days ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
}

/** A frame's timestamp as the processor writes it: `f"{int(t // 60):02d}:{int(t % 60):02d}"`. */
export function frameTimestamp(t: number): string {
  if (!Number.isFinite(t) || t < 0) throw new InputError(`frame timestamp must be a time ≥ 0 s, got ${t}`);
  return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(Math.trunc(t % 60)).padStart(2, '0')}`;
}

function checkSeqLen(imageSeqLen: number): void {
  if (!Number.isInteger(imageSeqLen) || imageSeqLen <= 0) throw new InputError(`imageSeqLen must be a positive integer, got ${imageSeqLen}`);
}

/** `_prompt_single_image` / `_prompt_split_image` (transformers processing_smolvlm.py). */
export function imagePromptString(grid: ImageGrid, imageSeqLen: number): string {
  checkSeqLen(imageSeqLen);
  const { rows, cols } = grid;
  const images = IMAGE_TOKEN.repeat(imageSeqLen);
  const global = `${FAKE_TOKEN}${GLOBAL_IMAGE_TOKEN}${images}${FAKE_TOKEN}`;
  if (rows === 0 && cols === 0) return global;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0) throw new InputError(`image grid must be 0/0 or positive, got ${rows}×${cols}`);
  let text = '';
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) text += `${FAKE_TOKEN}${rowColToken(r, c)}${images}`;
    text += '\n';
  }
  return `${text}\n${global}`;
}

const VIDEO_INTRO = (frames: string, duration: string) => `You are provided the following series of ${frames} frames from a ${duration} [H:MM:SS] video.\n`;
const MEDIA_OUTTRO = '\n\n';

/** SmolVLMProcessor.replace_video_token's text for one video (frames as unsplit images). */
export function videoPromptString(video: VideoPromptInfo, imageSeqLen: number): string {
  checkSeqLen(imageSeqLen);
  const n = video.timestamps.length;
  if (n === 0) throw new InputError('a video needs at least one frame');
  if (!Number.isFinite(video.durationSeconds) || video.durationSeconds < 0) throw new InputError(`video duration must be ≥ 0 s, got ${video.durationSeconds}`);
  let text = VIDEO_INTRO(numberToWords(n), timedeltaString(Math.trunc(video.durationSeconds)));
  const frame = imagePromptString({ rows: 0, cols: 0 }, imageSeqLen);
  for (const t of video.timestamps) text += `\nFrame from ${frameTimestamp(t)}:${frame}`;
  return text + MEDIA_OUTTRO;
}

export interface ExpandInputs {
  /** One grid per `<image>` placeholder, in order. */
  images?: readonly ImageGrid[];
  /** One entry per `<video>` placeholder, in order. */
  videos?: readonly VideoPromptInfo[];
  imageSeqLen: number;
}

/**
 * Replaces every `<image>` / `<video>` placeholder of a rendered prompt, in one left-to-right pass
 * (so a video's own `<image>` tokens are never taken for image placeholders). The number of
 * placeholders must equal the number of images / videos given.
 */
export function expandPrompt(text: string, inputs: ExpandInputs): string {
  const images = inputs.images ?? [];
  const videos = inputs.videos ?? [];
  let ii = 0;
  let vi = 0;
  const out = text.replace(/<image>|<video>/g, (m) => {
    if (m === IMAGE_TOKEN) {
      if (ii >= images.length) throw new InputError(`the prompt has more ${IMAGE_TOKEN} placeholders than the ${images.length} image(s) given`);
      return imagePromptString(images[ii++], inputs.imageSeqLen);
    }
    if (vi >= videos.length) throw new InputError(`the prompt has more ${VIDEO_TOKEN} placeholders than the ${videos.length} video(s) given`);
    return videoPromptString(videos[vi++], inputs.imageSeqLen);
  });
  if (ii !== images.length) throw new InputError(`${images.length} image(s) given but the prompt has ${ii} ${IMAGE_TOKEN} placeholder(s)`);
  if (vi !== videos.length) throw new InputError(`${videos.length} video(s) given but the prompt has ${vi} ${VIDEO_TOKEN} placeholder(s)`);
  return out;
}

export interface PromptIds {
  /** The expanded prompt text. */
  text: string;
  ids: number[];
  /** How many `<image>` tokens the ids hold: imageSeqLen × total tiles (video frames count as tiles). */
  imageTokens: number;
}

/**
 * Expands and tokenizes a rendered prompt. Checks that the tokenizer has the `<row_r_col_c>`
 * tokens the grids need and that the `<image>` token count is what the images imply.
 */
export function buildPromptIds(tokenizer: SmolVlmTokenizer, text: string, inputs: ExpandInputs): PromptIds {
  for (const g of inputs.images ?? []) {
    if (g.rows > 0 || g.cols > 0) {
      const missing = tokenizer.rowColId(g.rows, g.cols) === undefined;
      if (missing) throw new InputError(`an image split into ${g.rows}×${g.cols} tiles needs ${rowColToken(g.rows, g.cols)}, which the tokenizer lacks (at most ${tokenizer.maxGridSide}×${tokenizer.maxGridSide})`);
    }
  }
  const expanded = expandPrompt(text, inputs);
  const ids = tokenizer.encode(expanded);
  const imageId = tokenizer.specials.image;
  let imageTokens = 0;
  for (const id of ids) if (id === imageId) imageTokens++;
  const tiles =
    (inputs.images ?? []).reduce((n, g) => n + (g.rows === 0 && g.cols === 0 ? 1 : g.rows * g.cols + 1), 0) +
    (inputs.videos ?? []).reduce((n, v) => n + v.timestamps.length, 0);
  // Placeholders left in text the user typed count too; they have no image behind them.
  if (imageTokens !== tiles * inputs.imageSeqLen) {
    throw new InputError(`the prompt holds ${imageTokens} ${IMAGE_TOKEN} tokens but the images give ${tiles} tile(s) × ${inputs.imageSeqLen}; is there a stray ${IMAGE_TOKEN} in the text?`);
  }
  return { text: expanded, ids, imageTokens };
}
