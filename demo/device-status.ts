import type { DeviceEvent, StreamVLM } from '../src/index';
import { formatMs } from './format';

/**
 * The page's line about the GPU device: silent while it works; when it is lost, says the engine is
 * recovering (the memory is kept), then that it recovered, or that it could not. The element has
 * role=status (announced politely) and a data-state for tests and styling: lost, recovered, failed.
 * `deviceEventLine` serves the load itself (StreamVLM.load's onDeviceEvent: the StreamVLM does not
 * exist yet to dispatch events), `showDeviceEvents` the stream after it.
 */
export function deviceEventLine(line: HTMLElement, during: 'load' | 'stream'): (event: DeviceEvent) => void {
  const say = (state: string, text: string) => {
    line.dataset.state = state;
    line.textContent = text;
    line.hidden = false;
  };
  return (e) => {
    if (e.type === 'devicelost') {
      say('lost', during === 'load'
        ? `The GPU device was lost while the model loaded (${e.reason}). Loading again on a new device, from the files already downloaded.`
        : `The GPU device was lost (${e.reason}). Recovering: the model is reloading from this browser's cache onto a new device; everything remembered is kept.`);
    } else if (e.type === 'recovered') {
      const lost = e.framesLost > 0 ? `; ${e.framesLost} recent frames could not be restored` : '';
      say('recovered', during === 'load'
        ? `Recovered from a GPU device loss during loading in ${formatMs(e.ms)}: the model is loaded on a new device.`
        : `Recovered from a GPU device loss in ${formatMs(e.ms)}${e.weightsFromCache ? ' (weights from the cache)' : ''}: the memory is intact, ${e.windowFramesRestored} recent frames restored${lost}. Questions and watching go on.`);
    } else {
      say('failed', `The GPU device was lost and no new one could be started (${e.message}).${during === 'load' ? '' : ' Save the memory, then reload the page.'}`);
    }
  };
}

export function showDeviceEvents(vlm: StreamVLM, line: HTMLElement): void {
  const tell = deviceEventLine(line, 'stream');
  vlm.addEventListener('devicelost', (e) => tell(e.detail));
  vlm.addEventListener('recovered', (e) => tell(e.detail));
  vlm.addEventListener('recoveryfailed', (e) => tell(e.detail));
}
