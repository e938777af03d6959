// The page Playwright drives for the vision tower and connector: loads a fixture model from the
// Vite server, runs its cases' pixel values through the tower and the connector on this
// Chromium's WebGPU, and compares with the arrays transformers wrote.
import { StreamVlmError } from '../../../src/errors';
import { GpuDevice } from '../../../src/gpu/device';
import { CommandRecorder } from '../../../src/gpu/recorder';
import { Tensor } from '../../../src/gpu/tensor';
import type { WeightFormat } from '../../../src/kernels/weights';
import { Checkpoint } from '../../../src/model/checkpoint';
import { parseConfig, type SmolVlmConfig } from '../../../src/model/config';
import { Connector } from '../../../src/model/connector';
import { UrlSource } from '../../../src/model/source';
import { VisionTower } from '../../../src/model/vision';

interface ArrayRef {
  file: string;
  shape: number[];
}
interface Case {
  pixel_values?: ArrayRef;
  vision_features: ArrayRef;
  connector: ArrayRef;
}
interface Expected {
  cases: Record<string, Case>;
}

export interface CaseReport {
  tiles: number;
  visionShape: number[];
  connectorShape: number[];
  visionMaxErr: number;
  connectorMaxErr: number;
  ms: number;
}

declare global {
  interface Window {
    visionHarness: {
      f16: () => Promise<boolean>;
      cases: (model: string) => Promise<string[]>;
      runCase: (model: string, name: string, maxTilesPerBatch?: number, format?: WeightFormat) => Promise<CaseReport>;
      mismatch: (model: string) => Promise<{ name: string; code: string; message: string } | null>;
    };
  }
}

const gpuPromise = GpuDevice.acquire();
const base = (model: string) => `/tools/fixtures/${model}/`;

async function fetchJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function fetchF32(url: string): Promise<Float32Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Float32Array(await r.arrayBuffer());
}


interface Loaded {
  config: SmolVlmConfig;
  configText: string;
  checkpoint: Checkpoint;
  expected: Expected;
  vision: VisionTower;
  connector: Connector;
}
const models = new Map<string, Promise<Loaded>>();

function load(model: string, format: WeightFormat = 'f32'): Promise<Loaded> {
  const key = `${model} ${format}`;
  let p = models.get(key);
  if (!p) {
    p = (async () => {
      const gpu = await gpuPromise;
      const configText = await (await fetch(`${base(model)}config.json`)).text();
      const config = parseConfig(configText);
      const checkpoint = await Checkpoint.open(new UrlSource(base(model)));
      const expected = await fetchJson<Expected>(`${base(model)}expected.json`);
      const vision = VisionTower.load(gpu, checkpoint, config, { format });
      const connector = Connector.load(gpu, checkpoint, config, { format });
      return { config, configText, checkpoint, expected, vision, connector };
    })();
    models.set(key, p);
  }
  return p;
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

window.visionHarness = {
  async f16() {
    return (await gpuPromise).features.f16;
  },
  async cases(model) {
    const { expected } = await load(model);
    return Object.entries(expected.cases).filter(([, c]) => c.pixel_values).map(([name]) => name);
  },
  async runCase(model, name, maxTilesPerBatch, format = 'f32') {
    const gpu = await gpuPromise;
    const { expected, vision, connector } = await load(model, format);
    const c = expected.cases[name];
    const pv = c.pixel_values!;
    const pixels = Tensor.from(gpu, await fetchF32(base(model) + pv.file), pv.shape, 'f32', 'pixels');
    const n = pv.shape[0];
    const feats = vision.createOutput(n);
    const embeds = connector.createOutput(n);
    gpu.device.pushErrorScope('validation');
    const t0 = performance.now();
    const rec = new CommandRecorder(gpu);
    vision.forward(rec, pixels, feats, { maxTilesPerBatch });
    connector.forward(rec, feats, embeds);
    rec.submit();
    const gotVision = await feats.readFloat();
    const gotConnector = await embeds.readFloat();
    const ms = performance.now() - t0;
    const err = await gpu.device.popErrorScope();
    if (err) throw new Error(`GPU validation error: ${err.message}`);
    const report: CaseReport = {
      tiles: n,
      visionShape: [...feats.shape],
      connectorShape: [...embeds.shape],
      visionMaxErr: maxAbs(gotVision, await fetchF32(base(model) + c.vision_features.file)),
      connectorMaxErr: maxAbs(gotConnector, await fetchF32(base(model) + c.connector.file)),
      ms,
    };
    if (feats.shape.join() !== c.vision_features.shape.join() || embeds.shape.join() !== c.connector.shape.join()) {
      report.visionMaxErr = report.connectorMaxErr = Infinity;
    }
    [pixels, feats, embeds].forEach((t) => t.destroy());
    return report;
  },
  async mismatch(model) {
    const gpu = await gpuPromise;
    const { configText, checkpoint } = await load(model);
    const raw = JSON.parse(configText);
    // half the vision width (still divisible by the heads): every vision tensor then disagrees
    raw.vision_config.hidden_size = raw.vision_config.hidden_size / 2;
    const config = parseConfig(JSON.stringify(raw));
    try {
      VisionTower.load(gpu, checkpoint, config, { format: 'f32' }).destroy();
      return null;
    } catch (e) {
      const err = e as StreamVlmError;
      return { name: err.name, code: err.code, message: err.message };
    }
  },
};
