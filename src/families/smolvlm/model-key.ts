import type { SmolVlmConfig } from '../../model/config';

/**
 * A short fingerprint of a model's configuration (FNV-1a of its JSON): saved memories carry it, and
 * an engine refuses memories whose blocks another model made (their K/V would be meaningless).
 * Two checkpoints with the same config but different weights share it.
 */
export function modelKey(config: SmolVlmConfig): string {
  const text = JSON.stringify(config);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `smolvlm-${config.text.numLayers}x${config.text.hiddenSize}-${h.toString(16).padStart(8, '0')}`;
}
