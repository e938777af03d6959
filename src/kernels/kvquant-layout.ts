/** Tokens per key group and channels per value group of the KV quantization (src/kernels/kvquant.ts). */
export const KV_GROUP = 32;

/**
 * Word where a key group's codes start. Keys are quantized per channel in groups of 32 tokens: the
 * full groups come first (`bits` words each, [group][channel]), then the last, partial group of
 * every channel packed tight — its valid tokens' codes only, `ceil(valid·bits/32)` words each — so a
 * frame of 78 tokens stores 78 tokens' codes, not 96. Shared by the kernel's layout, the TypeScript
 * reference and (as `key_code_offset`) shaders/kvquant.wgsl; a leaf module so the reference needs
 * no shader import. `tokenGroup` = full groups and `channel` = channels give the total code words.
 */
export function keyCodeOffset(tokens: number, channels: number, bits: number, tokenGroup: number, channel: number): number {
  const full = Math.floor(tokens / KV_GROUP);
  if (tokenGroup < full) return (tokenGroup * channels + channel) * bits;
  return full * channels * bits + channel * Math.ceil(((tokens - full * KV_GROUP) * bits) / 32);
}
