import type { FuzzTarget } from './target';
import { configTarget, processorTarget, safetensorsTarget, templateTarget, tokenizerTarget } from './targets-model';
import { jpegTarget, pngTarget, y4mTarget } from './targets-media';
import { memoryBlockTarget, memoryIndexTarget } from './targets-memory';
import { openMemoryTarget } from './targets-open-memory';
import { shardsTarget } from './targets-shards';

/** Every parser and decoder of an input streamvlm reads from outside. */
export const TARGETS: readonly FuzzTarget[] = [
  safetensorsTarget,
  shardsTarget,
  configTarget,
  processorTarget,
  tokenizerTarget,
  templateTarget,
  pngTarget,
  jpegTarget,
  y4mTarget,
  memoryBlockTarget,
  memoryIndexTarget,
  openMemoryTarget,
] as FuzzTarget[];

export function targetNamed(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target "${name}" (${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
