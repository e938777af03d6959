/**
 * Token ids to text as they are generated: each new token yields the text decoded so far minus what
 * was already shown. A token can complete a multi-byte character only together with the next one:
 * until then the decoded text ends in U+FFFD (or no longer extends what was shown) and the token
 * yields '' — the text it starts comes out whole with the token that completes it, or with the
 * last token (an answer may end in bytes that never form a character: they show as U+FFFD). The engine's
 * answer events and the CLI's streamed output both go through it, so they show the same text.
 */
export class IncrementalDecoder {
  private readonly ids: number[] = [];
  private shownText = '';

  /** `decode`: the whole id list to text (the tokenizer's decode, special tokens skipped). */
  constructor(private readonly decode: (ids: readonly number[]) => string) {}

  /** Adds a token; returns the text it makes showable ('' while a character is incomplete, unless `last`). */
  push(id: number, last = false): string {
    this.ids.push(id);
    const full = this.decode(this.ids);
    if ((full.endsWith('\uFFFD') && !last) || !full.startsWith(this.shownText)) return '';
    const added = full.slice(this.shownText.length);
    this.shownText = full;
    return added;
  }

  /** Everything shown so far (the concatenation of what push returned). */
  get shown(): string {
    return this.shownText;
  }
}
