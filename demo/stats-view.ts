import type { StreamVLMStats } from '../src/index';
import { formatBytes, formatMs } from './format';

/** Renders the live stats as a description list; each value has a data-stat name for tests. */
export class StatsView {
  private readonly values = new Map<string, HTMLElement>();

  constructor(private readonly list: HTMLElement) {}

  update(stats: StreamVLMStats): void {
    const { frames, engine, capture } = stats;
    const dropped = frames.droppedQueueFull + frames.droppedPaused + frames.failed;
    this.set('fps', 'Frames per second', `${capture.captureFps.toFixed(1)} sent (sampling at ${frames.fps})`);
    this.set('ingested', 'Frames seen', `${frames.ingested}${frames.paused ? ' (paused)' : ''}`);
    this.set('queue', 'Queue', `${frames.queueDepth} of ${frames.queueCapacity} waiting`);
    this.set('dropped', 'Dropped', `${dropped}${frames.droppedQueueFull ? ` (${frames.droppedQueueFull} while busy)` : ''}`);
    if (engine) {
      this.set('window', 'Recent window', `${engine.windowFrames} frames, ${formatBytes(engine.windowBytes)}`);
      const onDisk = engine.storeBytes - engine.storeRamBytes;
      const where = onDisk > 0 ? ` (${formatBytes(onDisk)} of it on disk)` : '';
      this.set('store', 'Memory store', `${engine.storeFrames} frames, ${formatBytes(engine.storeBytes)}${where}${engine.spillError ? ` — writing to disk stopped (${engine.spillError}); the rest stays in RAM` : ''}`);
      this.set('gpu', 'GPU memory', formatBytes(engine.gpuBytes));
      const ms = engine.stageMs;
      this.set('frame-ms', 'Time per frame', engine.framesIngested === 0 ? '— (no frame yet)' : `${formatMs(ms.encode + ms.prefill + ms.evict)} (vision ${formatMs(ms.encode)}, prefill ${formatMs(ms.prefill)}, evict ${formatMs(ms.evict)})`);
      this.set('ranking', 'Memory ranking', `${engine.ranking === 'wasm-simd' ? 'WebAssembly SIMD' : `plain JavaScript${stats.rankingFallback ? ` (${stats.rankingFallback})` : ''}`}, ${engine.rankingThreads > 0 ? `${engine.rankingThreads} worker threads` : 'in the engine worker'}`);
    }
    const r = stats.recovery;
    if (r && r.losses > 0) {
      const lost = engine?.framesLostToDeviceLoss ? `, ${engine.framesLostToDeviceLoss} frames lost` : ', no frame lost';
      this.set('gpu-losses', 'GPU device losses', `${r.losses} (${r.recoveries} recovered${r.recovering ? ', recovering now' : ''}${r.failed ? `, failed: ${r.failed}` : lost})`);
    }
    if (stats.storage) {
      this.set('storage', 'Storage', stats.storage.persisted ? 'persistent (the browser keeps saved memories)' : stats.storage.available ? 'not persistent: the browser may clear saved memories when space runs low' : 'persistence not offered by this browser');
    }
  }

  private set(key: string, term: string, value: string): void {
    let dd = this.values.get(key);
    if (!dd) {
      const dt = document.createElement('dt');
      dt.textContent = term;
      dd = document.createElement('dd');
      dd.dataset.stat = key;
      this.list.append(dt, dd);
      this.values.set(key, dd);
    }
    if (dd.textContent !== value) dd.textContent = value;
  }
}
