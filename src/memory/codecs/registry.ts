import { InputError } from '../../errors';
import type { KvStoreBits } from '../frame-block';
import type { KvCodec } from './codec';
import { kiviCodec } from './kivi';
import { RAW_CODEC } from './raw';

/**
 * Every K/V codec, by id. A new codec is one file here (its format) plus its GPU side
 * (gpu-registry.ts, whose map the type checker makes complete), and one line in each list.
 * Order matters only among codecs of the same `bits`: the first is what that setting means.
 */
export const KV_CODECS = {
  raw: RAW_CODEC,
  'kivi-8': kiviCodec(8),
  'kivi-4': kiviCodec(4),
  'kivi-2': kiviCodec(2),
} as const satisfies Record<string, KvCodec>;

export type KvCodecId = keyof typeof KV_CODECS;

const ALL: readonly KvCodec[] = Object.values(KV_CODECS);

export function isKvCodecId(id: unknown): id is KvCodecId {
  return typeof id === 'string' && Object.hasOwn(KV_CODECS, id);
}

/** The codec of this id; InputError for an unknown one. */
export function kvCodec(id: string): KvCodec {
  if (!isKvCodecId(id)) throw new InputError(`unknown K/V codec "${id}"; known: ${Object.keys(KV_CODECS).join(', ')}`);
  return KV_CODECS[id];
}

/** The codec a `kvBits` setting means (and a memory saved before codecs had ids). */
export function kvCodecForBits(bits: KvStoreBits): KvCodec {
  const codec = ALL.find((c) => c.bits === bits);
  if (!codec) throw new InputError(`no K/V codec keeps ${String(bits)} bits`);
  return codec;
}

/** The codec a block file's header byte names, or null. */
export function kvCodecForFileCode(code: number): KvCodec | null {
  return ALL.find((c) => c.fileCode === code) ?? null;
}

/**
 * The codec of a block or store meta: its `codec` id, or, where it has none (made by hand, or
 * saved before codecs had ids), the one its `bits` means. Throws when the two disagree.
 */
export function codecOf(x: { bits: KvStoreBits; codec?: string }): KvCodec {
  if (x.codec === undefined) return kvCodecForBits(x.bits);
  const codec = kvCodec(x.codec);
  if (codec.bits !== x.bits) throw new InputError(`K/V codec "${codec.id}" keeps ${String(codec.bits)} bits, not ${String(x.bits)}`);
  return codec;
}
