import type { AskEvent, AskOptions, FrameSummary } from '../engine/types';
import { InputError } from '../errors';
import type { AdapterDescription } from '../gpu/device';
import type { SaveReport } from '../memory/persist';
import type { StoreMeta } from '../memory/store';
import type { StreamEngineOptions } from '../engine/types';
import type { LoadProgress } from '../model/progress';
import { EngineWorkerClient } from '../worker/client';
import type { WorkerFrame } from '../worker/frames';
import type { OpenMemoryReport, WorkerStats } from '../worker/protocol';
import type { OfferResult } from '../worker/protocol';
import { openCamera } from '../platform/browser/camera';
import type { CaptureStats, FrameSource } from './capture-core';
import { FrameCapture } from './frame-capture';
import { canReadTrack, TrackCapture } from './track-capture';
import { resolveModelUrl } from './model-url';
import { checkOptions, workerLoadOptions, type StreamVLMOptions, type TimestampMode } from './options';
import { classifyOutOfMemory } from '../gpu/out-of-memory';
import { choosePrecision } from './precision';
import type { DeviceEvent } from '../engine/recovery';
import { requestPersistentStorage, type StoragePersistence } from '../platform/browser/storage-persistence';

export interface StreamVLMInfo {
  adapter: AdapterDescription;
  /** Activation precision in use. */
  precision: 'f16' | 'f32';
  /** Every model file came from the browser cache (no download). */
  fromCache: boolean;
  /** The model and memory settings a saved memory must match. */
  meta: StoreMeta;
  /** The engine settings in force. */
  engine: Required<StreamEngineOptions>;
  /** The model folder the files came from. */
  modelUrl: string;
}

/** The worker's figures (frames, queue, memory, GPU bytes, stage times) and the page's capture. */
export interface StreamVLMStats extends WorkerStats {
  capture: CaptureStats;
  /** Whether the browser keeps this origin's storage (saved memories, spill, model cache) under pressure; null until it answered. */
  storage: StoragePersistence | null;
}

/**
 * The events a StreamVLM dispatches (CustomEvents; the payload is `event.detail`):
 * - 'devicelost': the GPU device was lost; the engine is recovering by itself (calls wait; an
 *   answer that was streaming ends with DeviceLostError and can be asked again);
 * - 'recovered': a new device runs the stream, memory intact (`windowFramesRestored`, `framesLost`);
 * - 'recoveryfailed': no new device; questions fail with DeviceLostError, saveMemory still works;
 * - 'storage': the browser's answer to the persistent-storage request (StoragePersistence).
 */
export interface StreamVLMEventMap {
  devicelost: CustomEvent<Extract<DeviceEvent, { type: 'devicelost' }>>;
  recovered: CustomEvent<Extract<DeviceEvent, { type: 'recovered' }>>;
  recoveryfailed: CustomEvent<Extract<DeviceEvent, { type: 'recoveryfailed' }>>;
  storage: CustomEvent<StoragePersistence>;
}

export interface AttachOptions {
  /** Overrides the load option for this source ('auto': media time for a file, time since attach live). */
  timestamps?: TimestampMode;
}

const NO_CAPTURE: CaptureStats = { source: null, via: null, framesSent: 0, framesTaken: 0, framesSkippedBusy: 0, captureFps: 0, lastError: null };

/**
 * SmolVLM2 watching a video stream, answering questions about anything it has seen. The model,
 * the GPU and the memory live in a Web Worker; this object, on the page, only samples frames from
 * an attached <video> or MediaStream (VideoFrames, transferred) and relays calls.
 *
 * ```ts
 * const vlm = await StreamVLM.load('HuggingFaceTB/SmolVLM2-256M-Video-Instruct', { onProgress });
 * await vlm.attach(await StreamVLM.openCamera());
 * for await (const ev of vlm.ask('What did I put on the table?')) if (ev.type === 'token') out.textContent += ev.text;
 * ```
 */
export class StreamVLM extends EventTarget {
  /** getUserMedia for a camera, with CameraError (CAMERA_DENIED, CAMERA_NOT_FOUND, …) on failure. */
  static readonly openCamera = openCamera;

  private capture: FrameSource | null = null;
  /** The owned <video> a MediaStream plays in (null for a caller's element). */
  private ownVideo: HTMLVideoElement | null = null;
  /** Capture figures of sources detached before the current one. */
  private pastCapture: CaptureStats = { ...NO_CAPTURE };
  /** The latest timestamp the worker took or skipped without error: new frames must not go before it. */
  private clockMs: number | null = null;
  private disposed = false;
  private storage: StoragePersistence | null = null;

  private constructor(
    private readonly client: EngineWorkerClient,
    readonly info: StreamVLMInfo,
    private readonly settings: ReturnType<typeof checkOptions>,
  ) {
    super();
  }

  override addEventListener<K extends keyof StreamVLMEventMap>(type: K, listener: (event: StreamVLMEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | ((event: never) => void) | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Relays the worker's device events, and asks for persistent storage without holding up the load. */
  private async start(): Promise<void> {
    await this.client.onDeviceEvent((e) => this.dispatchEvent(new CustomEvent(e.type, { detail: e })));
    if (!this.settings.persistStorage) return;
    void requestPersistentStorage().then((answer) => {
      this.storage = answer;
      if (!this.disposed) this.dispatchEvent(new CustomEvent('storage', { detail: answer }));
    });
  }

  /**
   * Loads a model in a new engine worker: `model` is a hub id (`owner/name`, `owner/name@revision`)
   * or the URL of a model folder. Rejects with ModelLoadError (missing or damaged files),
   * GpuUnavailableError (no WebGPU), GpuOutOfMemoryError, UnsupportedModelError or InputError.
   */
  static async load(model: string, options: StreamVLMOptions = {}): Promise<StreamVLM> {
    const settings = checkOptions(options);
    const modelUrl = resolveModelUrl(model);
    const precision = await choosePrecision(settings.precision);
    const client = EngineWorkerClient.start();
    let fromCache = false;
    const onProgress = (p: LoadProgress) => {
      if (p.phase === 'done') fromCache = p.fromCache;
      options.onProgress?.(p);
    };
    try {
      // the load's own device events (a device lost while the weights upload) go to the option;
      // once loaded, start() makes them the StreamVLM's events
      const onDeviceEvent = options.onDeviceEvent;
      if (onDeviceEvent) await client.onDeviceEvent((e) => onDeviceEvent(e));
      const loaded = await client.load(modelUrl, workerLoadOptions(settings, precision, options.loseDeviceDuringLoadsForTesting), onProgress);
      const vlm = new StreamVLM(client, { adapter: loaded.adapter, precision: loaded.precision, fromCache, meta: loaded.meta, engine: loaded.engine, modelUrl }, settings);
      await vlm.start();
      return vlm;
    } catch (e) {
      await client.dispose().catch(() => {});
      throw classifyOutOfMemory(e, `loading ${modelUrl}`);
    }
  }

  /**
   * Watches a <video> (a file or any playing element) or a MediaStream (a camera, a canvas's
   * captureStream) at the load's fps, until detach(). Resolves once the first frame is sent.
   * A live stream (a MediaStream, or a <video> playing one) is read from its video track where the
   * browser can (MediaStreamTrackProcessor: the camera's own frames); otherwise, and for files, the
   * element is sampled (a MediaStream then plays in a muted element of its own). The stream's
   * tracks stay the caller's to stop.
   */
  async attach(source: HTMLVideoElement | MediaStream, options: AttachOptions = {}): Promise<void> {
    this.alive('attach');
    const timestamps = options.timestamps ?? this.settings.timestamps;
    if (!['auto', 'frames'].includes(timestamps)) throw new InputError(`attach: timestamps must be 'auto' or 'frames', not ${String(timestamps)}`);
    this.detach();
    const isStream = (s: unknown): s is MediaStream => typeof MediaStream === 'function' && s instanceof MediaStream;
    const liveTrack = (s: MediaStream) => s.getVideoTracks().find((t) => t.readyState === 'live');
    const startMs = this.clockMs === null ? 0 : this.clockMs + 1000 / this.settings.fps;
    const push = (frame: VideoFrame, ts: number) => this.pushFrame(frame, ts);
    let capture: FrameSource;
    if (isStream(source) || (typeof HTMLVideoElement === 'function' && source instanceof HTMLVideoElement && isStream(source.srcObject) && canReadTrack())) {
      const stream = isStream(source) ? source : (source.srcObject as MediaStream);
      const track = liveTrack(stream);
      if (!track) throw new InputError('attach: the MediaStream has no live video track');
      if (canReadTrack()) {
        capture = new TrackCapture(track, push, { fps: this.settings.fps, timestamps, startMs, live: true });
      } else {
        const video = document.createElement('video');
        video.muted = true;
        video.playsInline = true;
        video.srcObject = stream;
        this.ownVideo = video;
        // muted inline playback needs no user gesture
        await video.play().catch(() => {});
        capture = new FrameCapture(video, push, { fps: this.settings.fps, timestamps, startMs, live: true });
      }
    } else if (typeof HTMLVideoElement === 'function' && source instanceof HTMLVideoElement) {
      const live = isStream(source.srcObject) || source.duration === Infinity;
      capture = new FrameCapture(source, push, { fps: this.settings.fps, timestamps, startMs, live });
    } else {
      throw new InputError('attach: pass an HTMLVideoElement or a MediaStream (for an image or a frame you made, use pushFrame)');
    }
    this.capture = capture;
    try {
      await capture.start();
    } catch (e) {
      if (this.capture === capture) this.detach();
      throw e;
    }
  }

  /** Stops sampling the attached source (its memory stays). */
  detach(): void {
    const capture = this.capture;
    if (!capture) return;
    this.capture = null;
    capture.stop();
    const s = capture.snapshot();
    this.pastCapture = {
      source: null,
      via: null,
      framesSent: this.pastCapture.framesSent + s.framesSent,
      framesTaken: this.pastCapture.framesTaken + s.framesTaken,
      framesSkippedBusy: this.pastCapture.framesSkippedBusy + s.framesSkippedBusy,
      captureFps: 0,
      lastError: s.lastError ?? this.pastCapture.lastError,
    };
    if (this.ownVideo) {
      this.ownVideo.pause();
      this.ownVideo.srcObject = null;
      this.ownVideo = null;
    }
  }

  /**
   * Offers a frame at `timestampMs` (ms on the stream's clock, never decreasing). VideoFrames and
   * ImageBitmaps are transferred to the worker (unusable here afterwards). Returns whether the
   * sampler took it; a bad frame or timestamp rejects with InputError.
   */
  async pushFrame(frame: WorkerFrame, timestampMs: number): Promise<OfferResult> {
    this.alive('pushFrame');
    const offer = await this.client.pushFrame(frame, timestampMs);
    this.clockMs = Math.max(this.clockMs ?? -Infinity, timestampMs);
    return offer;
  }

  /**
   * Resolves when every frame taken so far is ingested and no question waits. A question goes
   * ahead of frames still waiting, so await this after pushing a recorded clip's frames to ask
   * about all of them.
   */
  idle(): Promise<void> {
    this.alive('idle');
    return this.client.idle();
  }

  /** Asks about everything seen so far: yields 'moments' (the frames used), each 'token', then 'done'. */
  async *ask(question: string, options?: AskOptions): AsyncGenerator<AskEvent> {
    this.alive('ask');
    yield* this.client.ask(question, options);
  }

  /** The worker's and the capture's figures. */
  async stats(): Promise<StreamVLMStats> {
    this.alive('stats');
    const worker = await this.client.stats();
    const now = this.capture?.snapshot();
    const past = this.pastCapture;
    const capture: CaptureStats = now
      ? { ...now, framesSent: now.framesSent + past.framesSent, framesTaken: now.framesTaken + past.framesTaken, framesSkippedBusy: now.framesSkippedBusy + past.framesSkippedBusy, lastError: now.lastError ?? past.lastError }
      : { ...past };
    return { ...worker, capture, storage: this.storage };
  }

  /**
   * The remembered frames in time order, with where each is kept and a thumbnail: all of them, or
   * those from frame index `fromFrame` on. A UI that refreshes as frames arrive asks from the
   * oldest frame it still shows in the window (frames before it only ever stay in memory), so a
   * refresh costs the new frames, not the whole stream's thumbnails.
   */
  timeline(options: { fromFrame?: number } = {}): Promise<FrameSummary[]> {
    this.alive('timeline');
    return this.client.timeline(options.fromFrame);
  }

  /** Frames are dropped (counted) until resume(); questions are still answered. */
  pause(): Promise<void> {
    this.alive('pause');
    return this.client.pause();
  }

  resume(): Promise<void> {
    this.alive('resume');
    return this.client.resume();
  }

  /** Saves the memory to the origin's private file system (OPFS) under `name`. */
  saveMemory(name = 'default'): Promise<SaveReport> {
    this.alive('saveMemory');
    return this.client.saveMemory(name);
  }

  /**
   * Makes the memory saved under `name` this stream's memory (same model and KV settings). New
   * frames then continue after its last timestamp. Detach first: a source attached before would
   * be stamped on the old clock.
   */
  async openMemory(name = 'default'): Promise<OpenMemoryReport> {
    this.alive('openMemory');
    if (this.capture) throw new InputError('openMemory: a source is attached; detach() it first, then attach again after opening');
    const report = await this.client.openMemory(name);
    this.clockMs = report.lastTimestampMs;
    return report;
  }

  listMemories(): Promise<string[]> {
    this.alive('listMemories');
    return this.client.listMemories();
  }

  deleteMemory(name: string): Promise<boolean> {
    this.alive('deleteMemory');
    return this.client.deleteMemory(name);
  }

  /**
   * Test hook: destroys the engine's GPUDevice as a driver reset would. The engine recovers by
   * itself ('devicelost', then 'recovered' events); tests and demos use it to show that.
   */
  loseDeviceForTesting(): Promise<void> {
    this.alive('loseDeviceForTesting');
    return this.client.loseDevice();
  }

  /** Stops capture, frees the model and the GPU and ends the worker. Saved memories stay. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.detach();
    await this.client.dispose();
  }

  private alive(what: string): void {
    if (this.disposed) throw new InputError(`${what}: this StreamVLM was disposed; load a new one`);
  }
}
