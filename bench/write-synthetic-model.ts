// Writes a SmolVLM2 model folder at the published shapes with random weights (bench/synthetic-model.ts)
// and a 640×480 4:2:0 y4m clip of the simulated camera (stream-common.ts), for running the demo page
// on a real GPU with Chromium's fake camera (bench/demo-gpu.mjs).
//
//   node dist-node/synthetic.js <out-dir> [--500m] [--seconds 20]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/model/config';
import { CONFIG_JSON } from './model-shapes';
import { simulatedFrame } from './stream-common';
import { syntheticModelSource } from './synthetic-model';

const argv = process.argv.slice(2);
const out = argv[0];
if (!out) throw new Error('usage: synthetic.js <out-dir> [--500m] [--seconds N]');
const name = argv.includes('--500m') ? '500m' : '256m';
const si = argv.indexOf('--seconds');
const seconds = si >= 0 ? Number(argv[si + 1]) : 20;
const json = CONFIG_JSON[name];
const { source } = syntheticModelSource(json, parseConfig(JSON.stringify(json)), readFileSync('tools/fixtures/tiny-gqa/tokenizer.json', 'utf8'));
mkdirSync(join(out, 'model'), { recursive: true });
for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'processor_config.json', 'generation_config.json']) {
  const bytes = await source.bytes(file);
  if (bytes) writeFileSync(join(out, 'model', file), bytes);
}

// the clip: 5 fps, BT.601 limited-range 4:2:0 (what Chromium's fake camera reads)
const [W, H, FPS] = [640, 480, 5];
const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${W} H${H} F${FPS}:1 Ip A1:1 C420jpeg\n`)];
for (let f = 0; f < seconds * FPS; f++) {
  const rgb = simulatedFrame(Math.floor(f / FPS), W, H).data;
  const y = Buffer.alloc(W * H);
  const u = Buffer.alloc((W / 2) * (H / 2));
  const v = Buffer.alloc((W / 2) * (H / 2));
  for (let i = 0; i < W * H; i++) {
    const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
    y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
  }
  for (let by = 0; by < H / 2; by++) {
    for (let bx = 0; bx < W / 2; bx++) {
      const i = 3 * (2 * by * W + 2 * bx);
      const [r, g, b] = [rgb[i], rgb[i + 1], rgb[i + 2]];
      u[by * (W / 2) + bx] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      v[by * (W / 2) + bx] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  parts.push(Buffer.from('FRAME\n'), y, u, v);
}
writeFileSync(join(out, 'camera.y4m'), Buffer.concat(parts));
console.log(`wrote ${out}/model (${name}) and ${out}/camera.y4m (${seconds} s)`);
