import type { FileReadOptions, ModelSource } from './source';

/**
 * Load progress in bytes, for progress bars ("x of y MB"). Downloads report as the bytes arrive,
 * the weights as they go to the GPU, then one 'done' when the model is ready.
 */
export type LoadPhase = 'download' | 'upload' | 'done';

export interface LoadProgress {
  phase: LoadPhase;
  /** The file this event is about ('done': the model's location). */
  file: string;
  /**
   * 'download': bytes of this file received so far (from the network or the cache).
   * 'upload': bytes of this file's tensors handed to the GPU so far. 'done': all bytes read.
   */
  loadedBytes: number;
  /** This file's size (Content-Length), or null while unknown (no Content-Length sent). */
  totalBytes: number | null;
  /** True when the bytes come from the browser cache, not the network ('done': every file did). */
  fromCache: boolean;
  /**
   * Every file of this phase so far, together: what one progress bar shows. A file of unknown
   * size counts the bytes it has delivered; files not yet started are not counted, so the total
   * grows as each file starts (the weights, started last, are almost all of it).
   */
  overall: { loadedBytes: number; totalBytes: number; files: number; filesDone: number };
}

export type LoadProgressCallback = (event: LoadProgress) => void;

/** Told by the checkpoint as tensors are read for upload: bytes of `file`'s tensors done so far. */
export type TensorReadReporter = (file: string, loadedBytes: number, totalBytes: number) => void;

/** One event per this many bytes of a file at most (plus its first and last): ~500 for 500 MB. */
const STEP_BYTES = 1 << 20;

interface FileState {
  loaded: number;
  total: number | null;
  fromCache: boolean;
  done: boolean;
  lastSent: number;
}

/** Per-phase sums over the files seen so far. */
class PhaseTotals {
  readonly files = new Map<string, FileState>();

  update(file: string, loaded: number, total: number | null, fromCache: boolean): { state: FileState; first: boolean } {
    let state = this.files.get(file);
    const first = !state;
    if (!state) {
      state = { loaded: 0, total, fromCache, done: false, lastSent: -1 };
      this.files.set(file, state);
    }
    state.loaded = loaded;
    state.total = total;
    state.fromCache = fromCache;
    state.done = total !== null && loaded >= total;
    return { state, first };
  }

  overall(): LoadProgress['overall'] {
    let loadedBytes = 0;
    let totalBytes = 0;
    let filesDone = 0;
    for (const s of this.files.values()) {
      loadedBytes += s.loaded;
      totalBytes += s.total ?? s.loaded;
      if (s.done) filesDone++;
    }
    return { loadedBytes, totalBytes, files: this.files.size, filesDone };
  }
}

/**
 * Turns the per-chunk byte counts of a ModelSource and the checkpoint's tensor reads into
 * throttled LoadProgress events with totals across files.
 */
export class LoadProgressTracker {
  private readonly download = new PhaseTotals();
  private readonly upload = new PhaseTotals();

  constructor(
    private readonly location: string,
    private readonly callback: LoadProgressCallback | undefined,
  ) {}

  /** The source, with every file read reporting its bytes here (the source itself when nobody listens). */
  track(source: ModelSource): ModelSource {
    if (!this.callback) return source;
    const forget = source.forget?.bind(source);
    return {
      location: source.location,
      bytes: async (name: string, options?: FileReadOptions) => {
        let reported = false;
        const bytes = await source.bytes(name, {
          ...options,
          onBytes: (loaded, total, fromCache) => {
            reported = true;
            options?.onBytes?.(loaded, total, fromCache);
            this.report('download', this.download, name, loaded, total, fromCache);
          },
        });
        // the file's end, known for sure now (a source that cannot stream, an in-memory one say,
        // shows each file once, whole; one without Content-Length learns its size here)
        if (bytes) {
          const fromCache = reported && (this.download.files.get(name)?.fromCache ?? false);
          this.report('download', this.download, name, bytes.byteLength, bytes.byteLength, fromCache);
        }
        return bytes;
      },
      ...(forget ? { forget } : {}),
    };
  }

  /** For Checkpoint.open: reports tensor bytes as they are read and uploaded. */
  readonly tensorRead: TensorReadReporter = (file, loaded, total) => {
    if (this.callback) this.report('upload', this.upload, file, loaded, total, this.download.files.get(file)?.fromCache ?? false);
  };

  /** The model is on the GPU. */
  done(): void {
    if (!this.callback) return;
    const overall = this.download.overall();
    const fromCache = overall.files > 0 && [...this.download.files.values()].every((s) => s.fromCache);
    this.callback({ phase: 'done', file: this.location, loadedBytes: overall.loadedBytes, totalBytes: overall.totalBytes, fromCache, overall });
  }

  private report(phase: 'download' | 'upload', totals: PhaseTotals, file: string, loaded: number, total: number | null, fromCache: boolean): void {
    const { state, first } = totals.update(file, loaded, total, fromCache);
    // first sight of a file (its size is news), every STEP_BYTES, and its end; nothing twice
    const due = first || state.done || loaded - state.lastSent >= STEP_BYTES;
    if (!due || loaded === state.lastSent) return;
    state.lastSent = loaded;
    this.callback!({ phase, file, loadedBytes: loaded, totalBytes: total, fromCache, overall: totals.overall() });
  }
}
