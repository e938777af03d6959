import type { FrameSummary, Moment } from '../src/index';
import { drawRgb } from './draw-rgb';
import { formatStreamTime } from './format';

const whereText = (where: FrameSummary['where']) => (where === 'window' ? 'in the recent window' : 'in memory');

interface Entry {
  summary: FrameSummary;
  item: HTMLLIElement;
  button: HTMLButtonElement;
  moment: Moment | null;
}

/**
 * The stream's timeline: one button per frame seen (thumbnail and time), the moments an answer
 * used outlined, and the chosen frame shown larger below. Frames are added as they arrive; a frame
 * already shown only changes its place (window → memory).
 */
export class TimelineView {
  private readonly entries = new Map<number, Entry>();
  private selected: number | null = null;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly view: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly caption: HTMLElement,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The first frame a refresh must ask for: the oldest one shown in the window (it may have moved
   * to memory since), else the one after the newest shown. Frames before it are in memory for good,
   * so a refresh fetches only the window and the new frames, however long the stream.
   */
  get refreshFrom(): number {
    let newest = -1;
    for (const [index, entry] of this.entries) {
      if (entry.summary.where === 'window') return index;
      newest = Math.max(newest, index);
    }
    return newest + 1;
  }

  /** Adds new frames and updates where older ones are now. */
  update(frames: FrameSummary[]): void {
    for (const summary of frames) {
      const known = this.entries.get(summary.frameIndex);
      if (known) {
        if (known.summary.where !== summary.where) {
          known.summary = summary;
          this.label(known);
          if (this.selected === summary.frameIndex) this.showFrame(known);
        }
        continue;
      }
      this.add(summary);
    }
  }

  /** Outlines the moments an answer used (clearing the previous answer's) and brings the first into view. */
  highlight(moments: Moment[]): void {
    for (const entry of this.entries.values()) entry.moment = null;
    for (const m of moments) {
      const entry = this.entries.get(m.frameIndex);
      if (entry) entry.moment = m;
    }
    for (const entry of this.entries.values()) this.label(entry);
    const first = moments.length ? this.entries.get(moments[0].frameIndex) : undefined;
    first?.item.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  private add(summary: FrameSummary): void {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'frame';
    button.dataset.frameIndex = String(summary.frameIndex);
    const canvas = document.createElement('canvas');
    canvas.setAttribute('aria-hidden', 'true');
    drawRgb(canvas, summary.thumbnail);
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = formatStreamTime(summary.timestampMs);
    button.append(canvas, time);
    item.append(button);
    const entry: Entry = { summary, item, button, moment: null };
    button.addEventListener('click', () => this.select(entry));
    this.entries.set(summary.frameIndex, entry);
    this.label(entry);
    this.list.append(item);
  }

  private label(entry: Entry): void {
    const { summary, button, moment } = entry;
    const used = moment !== null;
    button.classList.toggle('used', used);
    button.classList.toggle('in-memory', summary.where === 'memory');
    button.dataset.used = String(used);
    button.setAttribute('aria-label', `Frame ${summary.frameIndex + 1} at ${formatStreamTime(summary.timestampMs)}, ${whereText(summary.where)}${used ? ', used by the last answer' : ''}`);
  }

  private select(entry: Entry): void {
    if (this.selected !== null) this.entries.get(this.selected)?.button.setAttribute('aria-pressed', 'false');
    this.selected = entry.summary.frameIndex;
    entry.button.setAttribute('aria-pressed', 'true');
    this.showFrame(entry);
  }

  private showFrame(entry: Entry): void {
    const { summary, moment } = entry;
    drawRgb(this.canvas, summary.thumbnail);
    this.view.dataset.frameIndex = String(summary.frameIndex);
    const use = moment ? ` Used by the last answer${moment.score !== null ? ` (retrieval score ${moment.score.toFixed(3)})` : ' (recent window)'}.` : '';
    this.caption.textContent = `Frame ${summary.frameIndex + 1} at ${formatStreamTime(summary.timestampMs)}, ${whereText(summary.where)}.${use}`;
    this.view.hidden = false;
  }
}
