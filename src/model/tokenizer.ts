import { Tokenizer } from '@huggingface/tokenizers';
import { InputError, ModelLoadError } from '../errors';
import { LIMITS } from '../limits';
import type { SmolVlmConfig } from './config';
import { parseJsonObject } from './json-file';
import { unsafeRegexShape } from './regex-shape';

/**
 * SmolVLM's tokenizer: tokenizer.json (+ tokenizer_config.json) run by @huggingface/tokenizers.
 * SmolVLM adds no BOS/EOS (the template writes `<|im_start|>` itself), so `encode` never adds
 * special tokens; added tokens (`<image>`, `<row_1_col_1>`, …) are matched as whole strings.
 */
export const IMAGE_TOKEN = '<image>';
export const FAKE_TOKEN = '<fake_token_around_image>';
export const GLOBAL_IMAGE_TOKEN = '<global-img>';
export const END_OF_UTTERANCE = '<end_of_utterance>';
export const IM_START = '<|im_start|>';
export const rowColToken = (row: number, col: number) => `<row_${row}_col_${col}>`;

export interface SpecialTokenIds {
  image: number;
  fakeTokenAroundImage: number;
  globalImage: number;
  endOfUtterance: number;
  imStart: number;
}

const TOKENIZER = 'tokenizer.json';
const TOKENIZER_CONFIG = 'tokenizer_config.json';

export class SmolVlmTokenizer {
  readonly specials: SpecialTokenIds;
  /** Ids that end generation: `<end_of_utterance>` (and the config's eos_token if different). */
  readonly stopIds: readonly number[];
  private readonly rowCol = new Map<string, number>();

  private constructor(private readonly tok: Tokenizer, config: Record<string, unknown>) {
    const addedIds = new Set(tok.get_added_tokens_decoder().keys());
    const need = (token: string): number => {
      const id = tok.token_to_id(token);
      if (id === undefined) throw new ModelLoadError(TOKENIZER, `has no ${token} token; not a SmolVLM tokenizer`);
      if (!addedIds.has(id)) throw new ModelLoadError(TOKENIZER, `${token} is not an added token, so it would not be matched whole`);
      const enc = tok.encode(token, { add_special_tokens: false }).ids;
      if (enc.length !== 1 || enc[0] !== id) throw new ModelLoadError(TOKENIZER, `${token} does not encode to its own id ${id} (got ${JSON.stringify(enc)})`);
      return id;
    };
    this.specials = {
      image: need(IMAGE_TOKEN),
      fakeTokenAroundImage: need(FAKE_TOKEN),
      globalImage: need(GLOBAL_IMAGE_TOKEN),
      endOfUtterance: need(END_OF_UTTERANCE),
      imStart: need(IM_START),
    };
    for (let r = 1; r <= 6; r++) {
      for (let c = 1; c <= 6; c++) {
        const id = tok.token_to_id(rowColToken(r, c));
        if (id !== undefined && addedIds.has(id)) this.rowCol.set(`${r},${c}`, id);
      }
    }
    const stop = [this.specials.endOfUtterance];
    const eos = typeof config.eos_token === 'string' ? config.eos_token : undefined;
    const eosId = eos !== undefined ? tok.token_to_id(eos) : undefined;
    if (eosId !== undefined && !stop.includes(eosId)) stop.push(eosId);
    this.stopIds = stop;
  }

  /**
   * Builds the tokenizer from the texts of tokenizer.json and (optionally) tokenizer_config.json.
   * Malformed files and tokenizers lacking SmolVLM's image tokens → ModelLoadError naming the file.
   */
  static fromJson(tokenizerJson: string, tokenizerConfigJson?: string): SmolVlmTokenizer {
    const json = parseJsonObject(TOKENIZER, tokenizerJson, LIMITS.tokenizerJsonBytes);
    const config = tokenizerConfigJson !== undefined ? parseJsonObject(TOKENIZER_CONFIG, tokenizerConfigJson) : {};
    if (!json.model || typeof json.model !== 'object' || Array.isArray(json.model)) throw new ModelLoadError(TOKENIZER, 'has no "model" section');
    if (!Array.isArray(json.added_tokens)) throw new ModelLoadError(TOKENIZER, 'has no "added_tokens" list');
    checkTokenizerBounds(json);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (cause) {
      throw new ModelLoadError(TOKENIZER, `could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
    try {
      const tokenizer = new SmolVlmTokenizer(tok, config);
      tokenizer.checkSpeed();
      return tokenizer;
    } catch (cause) {
      // the library validates lazily: a malformed section (a post-processor's template, …) throws
      // its own TypeError at the first encode, which is this file's fault, named as such
      if (cause instanceof ModelLoadError) throw cause;
      throw new ModelLoadError(TOKENIZER, `could not tokenize: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
  }

  /**
   * Text shaped to make a backtracking pre-tokenizer slow (long runs of spaces, letters, digits,
   * punctuation, newlines, each ending in a mismatch) is tokenized once at load: a tokenizer whose
   * patterns passed the shape check but still scale badly is refused here, in well under seconds,
   * rather than stalling on a user's question.
   */
  private checkSpeed(): void {
    const n = 500;
    const probes = [' '.repeat(n) + 'x', 'a'.repeat(n) + '!', '1'.repeat(n) + 'a', '!'.repeat(n) + ' a', '\n'.repeat(n) + 'a', ' \n'.repeat(n / 2) + 'x'];
    const started = Date.now();
    for (const probe of probes) {
      this.encode(probe);
      if (Date.now() - started > PROBE_MS) {
        throw new ModelLoadError(TOKENIZER, `tokenizing ${probes.length} probe texts of ${n} characters took over ${PROBE_MS} ms: its patterns backtrack too much to run on user text`);
      }
    }
  }

  /** Token ids of `text`, special tokens matched whole, no BOS/EOS added. */
  encode(text: string): number[] {
    // the pre-tokenizer's regexes cost more than linear time on some text: bound what they see
    if (text.length > LIMITS.encodeChars) throw new InputError(`text of ${text.length} characters is more than the ${LIMITS.encodeChars} the tokenizer takes at once; shorten the question`);
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return this.tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.tok.id_to_token(id);
  }

  /** Id of `<row_{row}_col_{col}>` (1-based), undefined when the tokenizer lacks it. */
  rowColId(row: number, col: number): number | undefined {
    return this.rowCol.get(`${row},${col}`);
  }

  /** The largest tile grid side this tokenizer has `<row_r_col_c>` tokens for (6 for SmolVLM). */
  get maxGridSide(): number {
    let n = 0;
    while (n < 6 && this.rowCol.has(`${n + 1},${n + 1}`)) n++;
    return n;
  }

  /** config.json's image_token_id must be this tokenizer's `<image>`. */
  assertMatchesConfig(config: SmolVlmConfig): void {
    if (config.imageTokenId !== this.specials.image) {
      throw new ModelLoadError(TOKENIZER, `<image> is id ${this.specials.image} but config.json says image_token_id ${config.imageTokenId}`);
    }
  }
}

/** Tokenizing the load-time probes (a few ms for real tokenizers) may take at most this long. */
const PROBE_MS = 500;

/** Counts the tokenizer library would build tables from, and every regex it would compile, checked first. */
function checkTokenizerBounds(json: Record<string, unknown>): void {
  const model = json.model as Record<string, unknown>;
  const count = (x: unknown) => (Array.isArray(x) ? x.length : x && typeof x === 'object' ? Object.keys(x).length : 0);
  const limit = (what: string, n: number, max: number) => {
    if (n > max) throw new ModelLoadError(TOKENIZER, `${what} has ${n} entries, more than the ${max} this runtime accepts`);
  };
  limit('model.vocab', count(model.vocab), LIMITS.vocabulary);
  limit('model.merges', count(model.merges), LIMITS.merges);
  limit('added_tokens', count(json.added_tokens), LIMITS.addedTokens);
  // ids become GPU indices (embedding rows): each must be a whole number within the vocabulary bound
  const isId = (id: unknown) => Number.isInteger(id) && (id as number) >= 0 && (id as number) < LIMITS.vocabulary;
  (json.added_tokens as unknown[]).forEach((t, i) => {
    const token = t as { id?: unknown; content?: unknown } | null;
    if (!token || typeof token !== 'object' || !isId(token.id) || typeof token.content !== 'string') {
      throw new ModelLoadError(TOKENIZER, `added_tokens[${i}] needs a whole-number id below ${LIMITS.vocabulary} and a string content`);
    }
  });
  if (model.vocab && typeof model.vocab === 'object' && !Array.isArray(model.vocab)) {
    for (const [token, id] of Object.entries(model.vocab)) {
      if (!isId(id)) throw new ModelLoadError(TOKENIZER, `model.vocab gives ${JSON.stringify(token.slice(0, 50))} the id ${JSON.stringify(id)}, not a whole number below ${LIMITS.vocabulary}`);
    }
  }
  for (const section of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const) {
    forEachRegex(json[section], `${section}`, (pattern, where) => {
      if (typeof pattern !== 'string') throw new ModelLoadError(TOKENIZER, `${where}.Regex is not a string`);
      if (pattern.length > LIMITS.regexChars) throw new ModelLoadError(TOKENIZER, `${where}.Regex is ${pattern.length} characters, more than ${LIMITS.regexChars}`);
      const why = unsafeRegexShape(pattern);
      if (why) throw new ModelLoadError(TOKENIZER, `${where}.Regex ${JSON.stringify(pattern.slice(0, 100))} is refused: ${why}`);
    });
  }
}

/** Calls `visit` for every `{"Regex": …}` pattern under `node` (JSON depth is already bounded). */
function forEachRegex(node: unknown, where: string, visit: (pattern: unknown, where: string) => void): void {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach((x, i) => forEachRegex(x, `${where}[${i}]`, visit));
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'Regex') visit(value, where);
    else forEachRegex(value, `${where}.${key}`, visit);
  }
}
