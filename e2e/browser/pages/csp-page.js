// The built library (./lib/streamvlm.js) on a page served with a strict Content-Security-Policy by
// e2e/browser/csp.spec.ts (the header covers the page and the engine worker's script). Loads the tiny-gqa
// model, pushes its stream fixture with a 2-frame window so most frames are ranked from memory,
// asks, and reports which ranking path ran and why. `?threads=N` sets the ranking workers (rankingThreads).
import { StreamVLM } from './lib/streamvlm.js';

const model = '/models/tiny-gqa/';
const status = document.querySelector('#status');
const out = { violations: [] };
document.addEventListener('securitypolicyviolation', (e) => out.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
try {
  const fx = await (await fetch(`${model}stream.json`)).json();
  const rankingThreads = Number(new URLSearchParams(location.search).get('threads') ?? 0);
  const vlm = await StreamVLM.load(model, { kvBits: 'none', windowFrames: 2, topK: 4, frameResize: 'image', maxAnswerTokens: fx.max_new_tokens, persistStorage: false, rankingThreads });
  for (const [i, f] of fx.frames.entries()) {
    const blob = await (await fetch(`${model}${f.file}`)).blob();
    const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    await vlm.pushFrame(bitmap, i * 1000);
    await vlm.idle();
  }
  out.tokens = [];
  for await (const ev of vlm.ask(fx.question)) {
    if (ev.type === 'moments') out.moments = ev.moments.map((m) => `${m.frameIndex}:${m.from}`);
    if (ev.type === 'token') out.tokens.push(ev.id);
  }
  const s = await vlm.stats();
  out.ranking = s.engine.ranking;
  out.rankingFallback = s.rankingFallback;
  out.rankingThreads = s.engine.rankingThreads;
  out.storeFrames = s.engine.storeFrames;
  await vlm.dispose();
  status.dataset.result = JSON.stringify(out);
  status.textContent = 'done';
} catch (e) {
  status.textContent = `error: ${e?.name}: ${e?.message}`;
}
