// Saves stream B over the memory the page saved as stream A, and is terminated by the page at some
// moment of it: a tab closed, or a worker killed, in the middle of a save.
import { saveMemory } from '../../../src/platform/browser/saved-memories';
import { META, streamB } from './crash-save-blocks';

self.onmessage = async (e: MessageEvent<{ name: string }>) => {
  const blocks = streamB();
  postMessage('saving');
  await saveMemory(e.data.name, META, blocks);
  postMessage('saved');
};
