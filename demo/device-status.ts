import type { StreamVLM } from '../src/index';
import { formatMs } from './format';

/**
 * The page's line about the GPU device: silent while it works; when it is lost, says the engine is
 * recovering (the memory is kept), then that it recovered, or that it could not. The element has
 * role=status (announced politely) and a data-state for tests and styling: lost, recovered, failed.
 */
export function showDeviceEvents(vlm: StreamVLM, line: HTMLElement): void {
  const say = (state: string, text: string) => {
    line.dataset.state = state;
    line.textContent = text;
    line.hidden = false;
  };
  vlm.addEventListener('devicelost', (e) => {
    say('lost', `The GPU device was lost (${e.detail.reason}). Recovering: the model is reloading from this browser's cache onto a new device; everything remembered is kept.`);
  });
  vlm.addEventListener('recovered', (e) => {
    const { ms, windowFramesRestored, framesLost, weightsFromCache } = e.detail;
    const lost = framesLost > 0 ? `; ${framesLost} recent frames could not be restored` : '';
    say('recovered', `Recovered from a GPU device loss in ${formatMs(ms)}${weightsFromCache ? ' (weights from the cache)' : ''}: the memory is intact, ${windowFramesRestored} recent frames restored${lost}. Questions and watching go on.`);
  });
  vlm.addEventListener('recoveryfailed', (e) => {
    say('failed', `The GPU device was lost and no new one could be started (${e.detail.message}). Save the memory, then reload the page.`);
  });
}
