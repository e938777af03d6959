// Browser entry of issue 16's side-by-side run (bench/peer-browser.ts drives it): one page, one
// model folder served at ?model= (safetensors for streamvlm, onnx/ for transformers.js), the peer
// first, then streamvlm, on the same adapter. Phases are announced through window.peerMark (the
// driver samples the card's memory there) and the results left in window.peerDone.
//
//   peer-page.html?model=/model/&settings=<PeerPageSettings as JSON>
import { GpuDevice } from '../../src/gpu/device';
import type { Precision } from '../../src/kernels/common';
import { framePrefillTokens, measureOurs } from '../peer-streamvlm';
import type { PeerCheck, PeerPageResult, PeerPageSettings } from '../peer-types';
import { configurePeerEnv, loadPeer, loadPeerModel, measurePeer, peerFixtureTokens, type PeerModel } from './peer-transformersjs';

const logEl = document.getElementById('log')!;
const log = (line: string) => {
  console.log(line);
  logEl.textContent = `${(logEl.textContent ?? '').split('\n').slice(-40).join('\n')}${line}\n`;
};
const mark = async (phase: string) => {
  log(`phase: ${phase}`);
  await window.peerMark?.(phase);
};
const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e));
const params = new URLSearchParams(location.search);
const FRAME = { width: 640, height: 480 };

/** transformers.js's greedy tokens on each case, against transformers' (expected.json). */
async function checks(model: PeerModel, modelUrl: string, cases: string[]): Promise<PeerCheck[]> {
  const out: PeerCheck[] = [];
  for (const c of cases) {
    const t = await peerFixtureTokens(model, modelUrl, c);
    out.push({ case: c, ...t, equal: t.expected.length === t.peer.length && t.expected.every((x, i) => x === t.peer[i]) });
    log(`transformers.js greedy on ${c}: ${JSON.stringify(out[out.length - 1])}`);
  }
  return out;
}

try {
  const settings = JSON.parse(params.get('settings') ?? 'null') as PeerPageSettings | null;
  if (!settings) throw new Error('peer-page: no ?settings= (PeerPageSettings as JSON)');
  const modelUrl = params.get('model') ?? '/model/';
  const config = (await (await fetch(`${modelUrl}config.json`)).json()) as { vision_config: { image_size: number; patch_size: number }; scale_factor: number };
  const side = config.vision_config.image_size / config.vision_config.patch_size;
  const imageSeqLen = (side * side) / config.scale_factor ** 2;

  await mark('start');
  let peer: PeerPageResult['peer'] = null;
  let peerChecks: PeerCheck[] = [];
  if (settings.checkOnly) {
    // the model alone: a parity fixture's onnx/ needs no processor files
    configurePeerEnv();
    const model = await loadPeerModel(modelUrl, settings.peerDevice, settings.peerDtype);
    peerChecks = await checks(model, modelUrl, settings.checkCases);
    await model.dispose();
  } else if (!settings.skipPeer) {
    try {
      const peerOptions = { modelUrl, device: settings.peerDevice, dtype: settings.peerDtype, contextTokens: settings.contextTokens, prefillTokens: framePrefillTokens(imageSeqLen), decodeSteps: settings.decodeSteps, answerTokens: settings.answerTokens, repeats: settings.repeats, minutes: settings.minutes, frame: FRAME, log };
      const loaded = await loadPeer(peerOptions);
      log(`transformers.js: loaded in ${loaded.loadMs.toFixed(0)} ms (${settings.peerDevice}, ${settings.peerDtype})`);
      await mark('peer-loaded');
      peerChecks = await checks(loaded.model, modelUrl, settings.checkCases);
      peer = await measurePeer(peerOptions, loaded);
      await mark('peer-measured');
      await loaded.model.dispose();
    } catch (e) {
      peer = { error: errorText(e) };
      log(`transformers.js failed: ${peer.error}`);
    }
    await mark('peer-disposed');
  }

  const gpu = await GpuDevice.acquire();
  const a = gpu.adapter;
  const result = (ours: PeerPageResult['ours']): PeerPageResult => ({ userAgent: navigator.userAgent, adapter: `${a.vendor} ${a.architecture} ${a.description}`.trim(), shaderF16: gpu.features.f16, settings, peer, peerChecks, ours });
  window.peerPartial = result(null);
  let ours: PeerPageResult['ours'] = null;
  if (!settings.skipOurs && !settings.checkOnly) {
    try {
      const precision: Precision = settings.precision === 'auto' ? (gpu.features.f16 ? 'f16' : 'f32') : settings.precision;
      ours = await measureOurs(gpu, { modelUrl, precision, contextTokens: settings.contextTokens, decodeSteps: settings.decodeSteps, answerTokens: settings.answerTokens, minutes: settings.minutes, ingestBudgetMs: settings.ingestBudgetMs, ingestDeadline: settings.ingestDeadline, warmMs: settings.warmMs, frame: FRAME, log, mark });
    } catch (e) {
      ours = { error: errorText(e) };
      log(`streamvlm failed: ${ours.error}`);
    }
    await mark('ours-done');
  }
  window.peerDone = result(ours);
} catch (e) {
  window.peerDone = { error: errorText(e) };
}
