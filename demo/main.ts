// The demo page: load SmolVLM2 (or any model folder from ?model=), watch a camera or a video file,
// show live stats, ask questions with the answer streaming in, and a timeline of everything seen
// with the moments each answer used. Everything heavy runs in the SDK's engine worker; this page
// only moves frames (VideoFrames, transferred by the SDK) and renders.
import { StreamVLM, type StreamVLMStats } from '../src/index';
import { formatMs, formatStreamTime } from './format';
import { NeedleClipPlayer } from './needle-clip';
import { describeError, NO_WEBGPU, type UserMessage } from './messages';
import { ProgressView } from './progress-view';
import { setUpGpuCheck } from './self-check';
import { deviceEventLine, showDeviceEvents } from './device-status';
import { StatsView } from './stats-view';
import { TimelineView } from './timeline-view';
import { readPageSettings } from './url-options';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const settings = readPageSettings(location.search);
const modelSelect = $<HTMLSelectElement>('model-select');
const loadButton = $<HTMLButtonElement>('load');
const cameraButton = $<HTMLButtonElement>('camera');
const fileInput = $<HTMLInputElement>('file');
const pauseButton = $<HTMLButtonElement>('pause');
const clipButton = $<HTMLButtonElement>('needle-clip');
const clipSeed = $<HTMLInputElement>('needle-seed');
const clipCanvas = $<HTMLCanvasElement>('clip-canvas');
const preview = $<HTMLVideoElement>('preview');
const sourceStatus = $('source-status');
const askButton = $<HTMLButtonElement>('ask');
const questionInput = $<HTMLInputElement>('question');
const answer = $('answer');
const answerTiming = $('answer-timing');
const progress = new ProgressView($('progress-box'), $<HTMLProgressElement>('progress'), $('progress-text'));
const stats = new StatsView($('stats'));
const timeline = new TimelineView($<HTMLOListElement>('timeline'), $('frame-view'), $<HTMLCanvasElement>('frame-canvas'), $('frame-caption'));

let vlm: StreamVLM | null = null;
let camera: MediaStream | null = null;
let fileUrl: string | null = null;
let answering = false;
let clip: NeedleClipPlayer | null = null;

function showError(m: UserMessage): void {
  const box = $('error');
  box.dataset.code = m.code;
  $('error-title').textContent = m.title;
  $('error-message').textContent = m.message;
  $('error-advice').textContent = m.advice;
  box.hidden = false;
}

function clearError(): void {
  $('error').hidden = true;
  delete $('error').dataset.code;
}

// ---- model ----

if (settings.model) {
  const option = new Option(`${settings.model} (from this page's address)`, settings.model, true, true);
  modelSelect.prepend(option);
}

async function loadModel(): Promise<void> {
  const model = modelSelect.value;
  clearError();
  loadButton.disabled = true;
  modelSelect.disabled = true;
  progress.start(model);
  document.body.dataset.state = 'loading';
  try {
    // ?loseDeviceAtLoad destroys the GPU device of the first load as its weights upload (the SDK's
    // test hook), to see the page say so and the load go on on a new device
    const loseAtLoad = new URLSearchParams(location.search).has('loseDeviceAtLoad') ? { loseDeviceDuringLoadsForTesting: [0] } : {};
    vlm = await StreamVLM.load(model, { ...settings.options, ...loseAtLoad, onProgress: (p) => progress.update(p), onDeviceEvent: deviceEventLine($('gpu-status'), 'load') });
  } catch (error) {
    progress.fail();
    document.body.dataset.state = 'load-failed';
    showError(describeError(error, 'The model could not be loaded', 'load'));
    loadButton.disabled = false;
    modelSelect.disabled = false;
    return;
  }
  const { info } = vlm;
  const info$ = $('model-info');
  const adapter = [info.adapter.vendor, info.adapter.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  info$.textContent = `Ready: ${model}, ${info.fromCache ? 'loaded from this browser’s cache' : 'downloaded'}; running on ${adapter} with ${info.precision} math; window ${info.engine.windowFrames} frames, memory KV ${info.engine.kvBits === 'none' ? 'unquantized' : `${info.engine.kvBits}-bit`}.`;
  info$.dataset.fromCache = String(info.fromCache);
  info$.hidden = false;
  document.body.dataset.state = 'loaded';
  cameraButton.disabled = false;
  fileInput.disabled = false;
  clipButton.disabled = false;
  clipSeed.disabled = false;
  askButton.disabled = false;
  loadButton.textContent = 'Loaded';
  showDeviceEvents(vlm, $('gpu-status'));
  // ?loseDevice adds a button that destroys the engine's GPU device, to see it recover
  if (new URLSearchParams(location.search).has('loseDevice')) {
    const lose = $<HTMLButtonElement>('lose-device');
    lose.hidden = false;
    lose.addEventListener('click', () => void vlm?.loseDeviceForTesting());
  }
  pollStats();
}

// ---- sources ----

function stopSource(): void {
  clip?.stop();
  clip = null;
  clipCanvas.hidden = true;
  preview.hidden = false;
  vlm?.detach();
  camera?.getTracks().forEach((t) => t.stop());
  camera = null;
  if (fileUrl) URL.revokeObjectURL(fileUrl);
  fileUrl = null;
  preview.pause();
  preview.srcObject = null;
  preview.removeAttribute('src');
}

async function watch(describe: string): Promise<void> {
  if (!vlm) return;
  sourceStatus.textContent = `Starting ${describe}…`;
  await preview.play().catch(() => {});
  await vlm.attach(preview);
  sourceStatus.textContent = `Watching ${describe}.`;
  document.body.dataset.state = 'streaming';
  pauseButton.disabled = false;
}

cameraButton.addEventListener('click', async () => {
  clearError();
  stopSource();
  cameraButton.disabled = true;
  try {
    camera = await StreamVLM.openCamera();
    preview.srcObject = camera;
    await watch('the camera');
  } catch (error) {
    stopSource();
    sourceStatus.textContent = 'No video.';
    showError(describeError(error, 'The camera could not be started', 'camera'));
  } finally {
    cameraButton.disabled = false;
  }
});

fileInput.addEventListener('change', async () => {
  const file = fileInput.files?.[0];
  if (!file) return;
  clearError();
  stopSource();
  fileUrl = URL.createObjectURL(file);
  preview.src = fileUrl;
  try {
    await watch(`“${file.name}”`);
  } catch (error) {
    stopSource();
    sourceStatus.textContent = 'No video.';
    showError(describeError(error, `“${file.name}” could not be played`, 'file'));
  }
});

const CLIP_FRAMES = 60;

clipButton.addEventListener('click', async () => {
  if (!vlm) return;
  const seed = Number(clipSeed.value);
  if (!Number.isInteger(seed) || seed < 0 || seed > 999_999) {
    showError({ code: 'INPUT', title: 'That seed cannot make a clip', message: `The seed must be a whole number from 0 to 999999, not “${clipSeed.value}”.`, advice: 'Type another seed and press Play again.' });
    return;
  }
  clearError();
  stopSource();
  const stream = NeedleClipPlayer.plan(seed, CLIP_FRAMES);
  const list = $('clip-question-list');
  list.replaceChildren(...stream.questions.map((q) => Object.assign(document.createElement('li'), { textContent: `${q.question} → ${q.answer}` })));
  $('clip-questions').hidden = false;
  preview.hidden = true;
  clipCanvas.hidden = false;
  const player = (clip = new NeedleClipPlayer(vlm, clipCanvas));
  document.body.dataset.state = 'streaming';
  try {
    await player.play(stream, (i) => (sourceStatus.textContent = `Playing needle clip ${seed}: frame ${i + 1} of ${stream.frames} (${formatStreamTime(i * 1000)}).`));
    if (clip === player) sourceStatus.textContent = `Played needle clip ${seed}: ${stream.frames} frames. Ask about its rare shapes.`;
  } catch (error) {
    showError(describeError(error, 'The clip could not be played', 'clip'));
  }
});

pauseButton.addEventListener('click', async () => {
  if (!vlm) return;
  const pausing = pauseButton.getAttribute('aria-pressed') !== 'true';
  await (pausing ? vlm.pause() : vlm.resume());
  pauseButton.setAttribute('aria-pressed', String(pausing));
  pauseButton.textContent = pausing ? 'Resume watching' : 'Pause watching';
});

// ---- stats and timeline ----

let timelineFrames = -1;

async function refreshTimeline(s: StreamVLMStats): Promise<void> {
  const ingested = s.engine?.framesIngested ?? 0;
  const storeFrames = s.engine?.storeFrames ?? 0;
  // new frames, or frames moved from the window to memory
  const version = ingested * 1e6 + storeFrames;
  if (!vlm || version === timelineFrames) return;
  timelineFrames = version;
  timeline.update(await vlm.timeline({ fromFrame: timeline.refreshFrom }));
}

/** Polls the worker every 500 ms (100 ms while counting frames up to ?maxFrames). */
function pollStats(): void {
  const tick = async () => {
    if (!vlm) return;
    try {
      const s = await vlm.stats();
      stats.update(s);
      $('stats-empty').hidden = true;
      if (settings.maxFrames !== null && s.capture.source !== null && s.capture.framesSent >= settings.maxFrames) {
        vlm.detach();
        sourceStatus.textContent = `Stopped watching after ${settings.maxFrames} frames (maxFrames in the address).`;
      }
      await refreshTimeline(s);
    } catch (error) {
      showError(describeError(error, 'The engine stopped', 'engine'));
      return;
    }
    setTimeout(tick, settings.maxFrames !== null ? 100 : 500);
  };
  void tick();
}

// ---- questions ----

$('ask-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const question = questionInput.value.trim();
  if (!vlm || answering) return;
  if (!question) {
    questionInput.focus();
    answer.textContent = 'Type a question first.';
    return;
  }
  answering = true;
  askButton.disabled = true;
  clearError();
  answer.textContent = '';
  answer.dataset.state = 'answering';
  answer.dataset.tokens = '';
  answerTiming.textContent = '';
  const ids: number[] = [];
  try {
    for await (const ev of vlm.ask(question, settings.maxTokens ? { maxNewTokens: settings.maxTokens } : undefined)) {
      if (ev.type === 'moments') {
        // the moments may include frames ingested since the last poll
        timeline.update(await vlm.timeline({ fromFrame: timeline.refreshFrom }));
        timeline.highlight(ev.moments);
        answer.dataset.moments = ev.moments.map((m) => m.frameIndex).join(',');
      } else if (ev.type === 'token') {
        ids.push(ev.id);
        answer.append(ev.text);
        answer.dataset.tokens = ids.join(',');
      } else {
        answer.textContent = ev.text;
        answer.dataset.tokens = ev.tokens.join(',');
        answer.dataset.state = 'done';
        const t = ev.timing;
        answerTiming.textContent = `${ev.tokens.length} tokens; first token after ${formatMs(t.firstTokenMs)} (recall ${formatMs(t.retrieveMs)}), ${t.tokensPerSecond.toFixed(1)} tokens/s.`;
      }
    }
  } catch (error) {
    answer.dataset.state = 'failed';
    showError(describeError(error, 'The question could not be answered', 'question'));
  } finally {
    answering = false;
    askButton.disabled = false;
  }
});

// ---- start ----

setUpGpuCheck($<HTMLDetailsElement>('gpu-check'));
loadButton.addEventListener('click', () => void loadModel());
if (!('gpu' in navigator) || !navigator.gpu) {
  showError(NO_WEBGPU);
  loadButton.disabled = true;
  document.body.dataset.state = 'no-webgpu';
} else {
  document.body.dataset.state = 'ready';
}
