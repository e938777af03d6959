import { InputError } from '../../errors';
import { frameTimestamp, imagePromptString } from '../../model/prompt';
import type { StreamLayout } from '../family';
import { END_OF_UTTERANCE, IM_START, type SmolVlmTokenizer } from '../../model/tokenizer';

/**
 * The token layout of a live stream. It follows SmolVLM2's video prompt (spec §3.3: a user turn,
 * then per frame `\nFrame from MM:SS:` and the frame as one unsplit image, then the text) so the
 * model sees the format it was trained on, cut into pieces that are tokenized separately and
 * appended one after another:
 *
 *   prefix   `<|im_start|>User: You are provided the following series of frames from a live video.\n`
 *            — never evicted: the attention sinks (StreamingLLM).
 *   frame t  `\nFrame from MM:SS:<fake_token_around_image><global-img><image>×seq<fake_token_around_image>`
 *   question `\n\n{question}<end_of_utterance>\nAssistant:`
 *
 * The whole-video template writes the frame count and duration in its intro; a live stream knows
 * neither, so the intro names no count. Each piece ends in a special token or a newline and starts
 * with a newline, so tokenizing pieces one by one gives the same ids as a chunk boundary would in
 * any reference built from the same pieces (tools/fixtures/make_stream_fixtures.py builds its ids
 * exactly this way).
 */
export const STREAM_PREFIX = `${IM_START}User: You are provided the following series of frames from a live video.\n`;

export function framePromptString(timestampMs: number, imageSeqLen: number): string {
  return `\nFrame from ${frameTimestamp(timestampMs / 1000)}:${imagePromptString({ rows: 0, cols: 0 }, imageSeqLen)}`;
}

export function questionPromptString(question: string): string {
  return `\n\n${question}${END_OF_UTTERANCE}\nAssistant:`;
}

/** Tokenizes the stream's pieces and checks that a frame holds exactly one image's tokens. */
export class StreamPrompt implements StreamLayout {
  constructor(
    private readonly tokenizer: SmolVlmTokenizer,
    readonly imageSeqLen: number,
  ) {}

  prefixIds(): number[] {
    return this.tokenizer.encode(STREAM_PREFIX);
  }

  frameIds(timestampMs: number): number[] {
    const ids = this.tokenizer.encode(framePromptString(timestampMs, this.imageSeqLen));
    const image = this.tokenizer.specials.image;
    const count = ids.reduce((n, id) => n + (id === image ? 1 : 0), 0);
    if (count !== this.imageSeqLen) throw new InputError(`a frame prompt holds ${count} image tokens, expected ${this.imageSeqLen}`);
    return ids;
  }

  /** The question piece; image placeholders typed by the user are refused (no image behind them). */
  questionIds(question: string): number[] {
    if (typeof question !== 'string' || question.trim() === '') throw new InputError('ask: the question is empty');
    const ids = this.tokenizer.encode(questionPromptString(question));
    const s = this.tokenizer.specials;
    if (ids.some((id) => id === s.image || id === s.globalImage || id === s.fakeTokenAroundImage)) {
      throw new InputError('ask: the question contains image tokens (<image>, <global-img> or <fake_token_around_image>)');
    }
    return ids;
  }

  /** The raw question alone (ReKV scores retrieval with the bare question's queries). */
  bareQuestionIds(question: string): number[] {
    return this.tokenizer.encode(question);
  }
}
