import type { LoadProgress } from '../src/index';
import { formatBytes } from './format';

const fileName = (file: string) => file.split('/').filter(Boolean).pop() ?? file;

/**
 * Shows load progress in bytes: one bar over every file of the current phase (downloading the
 * files, then handing the weights to the GPU) and a line saying which file and whether its bytes
 * come from this browser's cache or the network.
 */
export class ProgressView {
  constructor(
    private readonly box: HTMLElement,
    private readonly bar: HTMLProgressElement,
    private readonly text: HTMLElement,
  ) {}

  start(model: string): void {
    this.box.hidden = false;
    this.box.dataset.phase = 'starting';
    this.bar.removeAttribute('value');
    this.text.textContent = `Loading ${model}…`;
  }

  update(p: LoadProgress): void {
    const { loadedBytes, totalBytes, files, filesDone } = p.overall;
    this.box.dataset.phase = p.phase;
    // the totals count only files already started: with every started file done and the phase
    // not over, the next file (the weights, usually) has not told its size yet — no full bar then
    const between = p.phase === 'download' && filesDone === files;
    if (between || totalBytes === 0) this.bar.removeAttribute('value');
    else {
      this.bar.max = totalBytes;
      this.bar.value = Math.min(loadedBytes, totalBytes);
    }
    const amount = `${formatBytes(loadedBytes)} of ${formatBytes(totalBytes)}`;
    const source = p.fromCache ? 'from this browser’s cache' : 'from the network';
    if (between) this.text.textContent = `Downloaded ${files} file${files === 1 ? '' : 's'} (${formatBytes(loadedBytes)}), the last ${source}; starting the next…`;
    else if (p.phase === 'download') this.text.textContent = `Downloading ${fileName(p.file)} ${source}: ${amount} (${filesDone} of ${files} files done)`;
    else if (p.phase === 'upload') this.text.textContent = `Loading the weights onto the GPU (${fileName(p.file)}): ${amount}`;
    else this.text.textContent = `Loaded ${formatBytes(loadedBytes)}, ${p.fromCache ? 'all from this browser’s cache (no download)' : 'downloaded (kept in this browser’s cache for next time)'}.`;
    this.text.dataset.fromCache = String(p.fromCache);
  }

  /** After a failure: the bar stops where it was. */
  fail(): void {
    this.box.dataset.phase = 'failed';
    if (!this.bar.hasAttribute('value')) this.bar.value = 0;
    this.text.textContent = 'Not loaded: see the message at the top of the page.';
  }
}
