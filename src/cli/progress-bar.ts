import type { LoadProgress } from '../model/progress';

/**
 * One progress line on a terminal (stderr): a bar, the amount done, the rate and the time left,
 * redrawn in place. Only where stderr is a terminal: piped or redirected output (logs, CI) and
 * --json stay free of carriage returns and escape codes.
 */
export class ProgressBar {
  private label = '';
  private startMs = 0;
  private lastDrawMs = -Infinity;
  private drawn = false;

  constructor(
    readonly enabled: boolean,
    private readonly stream: NodeJS.WritableStream = process.stderr,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A bar for the CLI: on when stderr is a terminal (not TERM=dumb) and the output is not --json. */
  static forTerminal(json: boolean): ProgressBar {
    return new ProgressBar(!json && !!process.stderr.isTTY && process.env.TERM !== 'dumb');
  }

  /** Shows `done` of `total` (null: unknown) for `label`; the rate and ETA count from the label's first update. */
  update(label: string, done: number, total: number | null, unit: 'bytes' | 'frames'): void {
    if (!this.enabled) return;
    const t = this.now();
    if (label !== this.label) {
      this.label = label;
      this.startMs = t;
    } else if (t - this.lastDrawMs < 100 && done !== total) {
      return; // at most ten redraws a second
    }
    this.lastDrawMs = t;
    const seconds = (t - this.startMs) / 1000;
    const rate = seconds > 0.2 ? done / seconds : null;
    const amount = unit === 'bytes' ? `${mb(done)}${total !== null ? `/${mb(total)}` : ''} MB` : `${done}${total !== null ? `/${total}` : ''} frames`;
    const speed = rate === null ? '' : unit === 'bytes' ? `  ${mb(rate)} MB/s` : `  ${rate.toFixed(1)} frames/s`;
    const eta = rate && total !== null && total > done ? `  ETA ${clock((total - done) / rate)}` : '';
    const bar = total ? `[${'#'.repeat(Math.round((24 * Math.min(done, total)) / total)).padEnd(24, '.')}]  ` : '';
    this.stream.write(`\r${label}  ${bar}${amount}${speed}${eta}\x1b[K`);
    this.drawn = true;
  }

  /** A line of text in the bar's place (what is happening while there is nothing to count). */
  note(text: string): void {
    if (!this.enabled) return;
    this.label = '';
    this.stream.write(`\r${text}\x1b[K`);
    this.drawn = true;
  }

  /** Removes the line (before other output is printed, or when finished). */
  clear(): void {
    if (!this.drawn) return;
    this.stream.write('\r\x1b[K');
    this.drawn = false;
  }

  /**
   * SmolVlm.load's onProgress, drawn: the files downloaded (or read: a local folder, the hub cache),
   * then the weights going to the GPU.
   */
  loadProgress(fromNetwork: boolean): (p: LoadProgress) => void {
    return (p) => {
      if (p.phase === 'done') return this.clear();
      const label = p.phase === 'upload' ? 'uploading weights' : p.fromCache ? 'reading model (cached)' : fromNetwork ? 'downloading model' : 'reading model';
      this.update(label, p.overall.loadedBytes, p.overall.totalBytes || null, 'bytes');
    };
  }
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Seconds as M:SS (H:MM:SS past an hour). */
function clock(seconds: number): string {
  const s = Math.ceil(seconds);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
