import { InputError } from '../errors';
/**
 * Group sizes of the KV quantization (src/kernels/kvquant.ts), chosen for bytes per frame: a frame's
 * piece is 77 rows, and each group costs a 4-byte (scale, min) pair.
 *
 * - Keys, per channel: groups of 128 tokens, so a frame's rows share one range per channel (with
 *   KIVI's 32 a frame had three: 32 + 32 + 13). Key outliers are whole channels (KIVI, KVQuant),
 *   which a per-channel range absorbs however many tokens it spans; KVQuant uses one range per
 *   channel for a whole sequence. Measured on 256M shapes (random weights, bench/RESULTS.md): the
 *   RMS logit error against full precision went 0.392 → 0.393 % at 4 bits and 2.94 → 2.96 % at 2,
 *   top-1 12/12 both ways. Saves a 256M frame 46,080 B at every bit width. (The test models'
 *   frames are 17 rows: one group either way.)
 * - Values, per token: groups of 32 channels (KIVI). A group must not span two KV heads: on the
 *   test model with 32-wide heads, 64-channel groups (two heads) changed the 4-bit answer from its
 *   first token. 32 divides every head_dim here; one group per head (64 for SmolVLM2) would save
 *   another 27,720 B a frame but needs the head size in the block format.
 */
export const KEY_GROUP_TOKENS = 128;
export const VALUE_GROUP_CHANNELS = 32;

/** Key group sizes a block may have: 128 (what this version writes) and 32 (memory format version 2). */
export const KEY_GROUP_CHOICES: readonly number[] = [128, 32];

/**
 * Word where a key group's codes start, for key groups of `keyGroup` tokens. The full groups come
 * first (`keyGroup·bits/32` words each, [group][channel]), then the last, partial group of every
 * channel packed tight — its valid tokens' codes only, `ceil(valid·bits/32)` words each — so a
 * frame of 77 tokens stores 77 tokens' codes, not 128. Shared by the kernel's layout, the
 * TypeScript reference and (as `key_code_offset`) shaders/kvquant.wgsl; a leaf module so the
 * reference needs no shader import. `tokenGroup` = full groups and `channel` = channels give the
 * total code words.
 */
export function keyCodeOffset(tokens: number, channels: number, bits: number, keyGroup: number, tokenGroup: number, channel: number): number {
  const full = Math.floor(tokens / keyGroup);
  const fullWords = (keyGroup * bits) / 32;
  if (tokenGroup < full) return (tokenGroup * channels + channel) * fullWords;
  return full * channels * fullWords + channel * Math.ceil(((tokens - full * keyGroup) * bits) / 32);
}

export type KvBits = 8 | 4 | 2;
export const KV_BITS: readonly KvBits[] = [8, 4, 2];

export type KvPartKind = 'keys' | 'values';

/** Sizes of one quantized part (keys or values) of a block. */
export interface KvQuantPartLayout {
  kind: KvPartKind;
  bits: KvBits;
  tokens: number;
  channels: number;
  /** Elements per group: tokens for keys (a partial last group has fewer), channels for values. */
  groupSize: number;
  /** Quantization groups, i.e. (scale, min) pairs = param words. */
  groups: number;
  codeWords: number;
  paramWords: number;
  /** Bytes on the GPU (and in a host copy): codes + params. */
  bytes: number;
}

/** A quantized part on the GPU. */

function checkShape(tokens: number, channels: number, bits: number): void {
  if (!Number.isInteger(tokens) || tokens < 1) throw new InputError(`kvquant: tokens must be a positive integer, got ${tokens}`);
  if (!Number.isInteger(channels) || channels < VALUE_GROUP_CHANNELS || channels % VALUE_GROUP_CHANNELS) {
    throw new InputError(`kvquant: channels (kv_heads·head_dim) must be a positive multiple of ${VALUE_GROUP_CHANNELS}, got ${channels}`);
  }
  if (!KV_BITS.includes(bits as KvBits)) throw new InputError(`kvquant: bits must be 8, 4 or 2, got ${bits}`);
}

/** `keyGroup` (tokens per key group) only shapes the keys part. */
export function kvQuantPartLayout(kind: KvPartKind, tokens: number, channels: number, bits: KvBits, keyGroup: number = KEY_GROUP_TOKENS): KvQuantPartLayout {
  checkShape(tokens, channels, bits);
  if (kind === 'keys') {
    if (!KEY_GROUP_CHOICES.includes(keyGroup)) throw new InputError(`kvquant: key groups of ${keyGroup} tokens; this streamvlm knows ${KEY_GROUP_CHOICES.join(' and ')}`);
    const groups = Math.ceil(tokens / keyGroup) * channels;
    // every channel's codes end where the next channel's partial group would start
    const codeWords = keyCodeOffset(tokens, channels, bits, keyGroup, Math.floor(tokens / keyGroup), channels);
    return { kind, bits, tokens, channels, groupSize: keyGroup, groups, codeWords, paramWords: groups, bytes: (codeWords + groups) * 4 };
  }
  const groupSize = VALUE_GROUP_CHANNELS;
  const groups = tokens * (channels / groupSize);
  const codeWords = (groups * groupSize * bits) / 32;
  return { kind, bits, tokens, channels, groupSize, groups, codeWords, paramWords: groups, bytes: (codeWords + groups) * 4 };
}
