/**
 * The SigLIP-derived vision tower of SmolVLM (spec §6.2): patch embedding, position embeddings,
 * pre-LN encoder layers with bidirectional multi-head attention, post-LayerNorm. No CLS token, no
 * pooling head. Tiles (the processor's 512×512 crops, frames) are independent images: every op
 * but attention is row-wise and runs on all tiles of a batch at once; attention runs per tile.
 */
import { InputError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import { CommandRecorder } from '../gpu/recorder';
import { Tensor } from '../gpu/tensor';
import { attention, attentionScratchElements } from '../kernels/attention';
import { actDType, checkPrecision, type Precision } from '../kernels/common';
import { copyBytes } from '../kernels/copy';
import { add, geluTanh } from '../kernels/elementwise';
import { matmul } from '../kernels/matmul';
import { layerNorm } from '../kernels/norm';
import { patchify } from '../kernels/patchify';
import { destroyWeight, uploadWeight, type Weight, type WeightFormat } from '../kernels/weights';
import type { Checkpoint } from './checkpoint';
import type { SmolVlmConfig, VisionConfig } from './config';
import type { LinearSpec, TensorSpec } from './tensor-spec';
import { visionTensors } from './vision-tensors';


/**
 * Tiles per batch by default: 4 × 1024 patches already give the matmuls 4096 rows (enough to fill
 * a large GPU), while the workspace stays ~250 MB for SmolVLM2's tower in f32; a 17-tile image at
 * once would need ~1 GB of activations.
 */
export const DEFAULT_TILES_PER_BATCH = 4;

export interface VisionLoadOptions {
  /** Storage of the Linear weights (and the patch embedding): f32, f16, q8 or q4. Default f32. */
  format?: WeightFormat;
  /** Activation precision. Default f32 (f16 needs shader-f16). */
  precision?: Precision;
}

export interface VisionForwardOptions {
  /**
   * Most tiles run through the layers together. Default: DEFAULT_TILES_PER_BATCH, fewer if the
   * adapter's largest storage binding cannot hold the MLP's [tiles·seq, intermediate] activation.
   */
  maxTilesPerBatch?: number;
}

interface EncoderLayer {
  ln1Weight: Tensor;
  ln1Bias: Tensor;
  q: Weight;
  k: Weight;
  v: Weight;
  out: Weight;
  ln2Weight: Tensor;
  ln2Bias: Tensor;
  fc1: Weight;
  fc2: Weight;
}

/** Activation buffers for `tiles` tiles at a time, reused by every forward that fits them. */
interface Workspace {
  tiles: number;
  patches: Tensor;
  /** Position embeddings repeated once per tile: the add then covers a whole batch. */
  positions: Tensor;
  x: Tensor;
  x2: Tensor;
  h: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  attn: Tensor;
  ffn: Tensor;
  ffn2: Tensor;
  /** One tile's q, k, v and attention output, when a batch holds more than one tile. */
  tileQ: Tensor;
  tileK: Tensor;
  tileV: Tensor;
  tileOut: Tensor;
  scratch: Tensor | null;
  all: Tensor[];
}

export class VisionTower {
  /** Patches per tile: (imageSize / patchSize)². */
  readonly seqLen: number;
  readonly hidden: number;
  readonly heads: number;
  readonly headDim: number;
  readonly patchSize: number;
  readonly precision: Precision;
  private workspace: Workspace | null = null;
  /** Workspaces outgrown by a bigger batch: a recorder not yet submitted may still use them. */
  private readonly retired: Workspace[] = [];

  private constructor(
    readonly gpu: GpuDevice,
    readonly config: VisionConfig,
    precision: Precision,
    private readonly patchEmbedding: Weight,
    private readonly positionTable: Tensor,
    private readonly layers: EncoderLayer[],
    private readonly postWeight: Tensor,
    private readonly postBias: Tensor,
  ) {
    this.patchSize = config.patchSize;
    this.seqLen = (config.imageSize / config.patchSize) ** 2;
    this.hidden = config.hiddenSize;
    this.heads = config.numHeads;
    this.headDim = config.hiddenSize / config.numHeads;
    this.precision = precision;
  }

  /**
   * Uploads the tower's weights. Every tensor's shape is checked against the config (a mismatch is
   * a ModelLoadError naming the tensor).
   */
  static load(gpu: GpuDevice, checkpoint: Checkpoint, config: SmolVlmConfig, options: VisionLoadOptions = {}): VisionTower {
    const format = options.format ?? 'f32';
    const precision = options.precision ?? 'f32';
    checkPrecision(gpu, precision);
    const v = config.vision;
    const hidden = v.hiddenSize;
    const p = v.patchSize;
    const side = v.imageSize / p;
    if (!Number.isInteger(side)) throw new InputError(`vision image_size ${v.imageSize} is not a multiple of patch_size ${p}`);
    const patchIn = v.numChannels * p * p;
    const t = visionTensors(v);
    const linear = (spec: LinearSpec) => checkpoint.linear(gpu, spec.prefix, spec.out, spec.in, format, { bias: spec.bias !== undefined });
    const vector = (spec: TensorSpec) => checkpoint.vector(gpu, spec.name, spec.shape);
    // Conv2d weight [hidden, C, p, p] is row-major [hidden, C·p·p] in (c, ky, kx) order: patchify's row order.
    const convWeight = checkpoint.float32(t.patchWeight.name, t.patchWeight.shape);
    const convBias = vector(t.patchBias);
    const patchEmbedding = uploadWeight(gpu, convWeight, hidden, patchIn, format, { bias: convBias, label: t.patchWeight.name.replace(/\.weight$/, '') });
    // kept in the activation dtype: it is tiled into the per-batch table by plain byte copies
    const positionTable = Tensor.from(gpu, checkpoint.float32(t.position.name, t.position.shape), [side * side, hidden], actDType(precision), t.position.name);
    if (precision === 'f16' && (side * side * hidden) % 2) throw new InputError('vision: f16 activations need an even number of position-table values');
    const layers: EncoderLayer[] = t.layers.map((l) => ({
      ln1Weight: vector(l.ln1Weight),
      ln1Bias: vector(l.ln1Bias),
      q: linear(l.q),
      k: linear(l.k),
      v: linear(l.v),
      out: linear(l.out),
      ln2Weight: vector(l.ln2Weight),
      ln2Bias: vector(l.ln2Bias),
      fc1: linear(l.fc1),
      fc2: linear(l.fc2),
    }));
    const postWeight = vector(t.postWeight);
    const postBias = vector(t.postBias);
    return new VisionTower(gpu, v, precision, patchEmbedding, positionTable, layers, postWeight, postBias);
  }

  /** The output tensor for `tiles` tiles: [tiles, seqLen, hidden] in the activation dtype. */
  createOutput(tiles: number, label = 'vision features'): Tensor {
    return Tensor.empty(this.gpu, [tiles, this.seqLen, this.hidden], actDType(this.precision), label);
  }

  /**
   * Records the tower for n full tiles: pixels f32 [n, C, imageSize, imageSize] (as the processor
   * writes them) → out [n, seqLen, hidden]. Nothing is submitted; the scratch buffers are the
   * tower's own and are reused by the next forward, which must therefore be recorded in order.
   */
  forward(rec: CommandRecorder, pixels: Tensor, out: Tensor, options: VisionForwardOptions = {}): void {
    const c = this.config;
    const expectedPixels = [pixels.shape[0], c.numChannels, c.imageSize, c.imageSize];
    if (pixels.shape.length !== 4 || pixels.shape.join() !== expectedPixels.join()) {
      throw new InputError(`vision: pixels must be [n, ${c.numChannels}, ${c.imageSize}, ${c.imageSize}], got [${pixels.shape.join(', ')}]`);
    }
    const n = pixels.shape[0];
    const expectedOut = [n, this.seqLen, this.hidden];
    if (out.shape.join() !== expectedOut.join() || out.dtype !== actDType(this.precision)) {
      throw new InputError(`vision: out must be ${actDType(this.precision)} [${expectedOut.join(', ')}], got ${out.dtype} [${out.shape.join(', ')}]`);
    }
    if (n === 0) return;
    const perBatch = Math.max(1, Math.min(n, options.maxTilesPerBatch ?? this.maxTilesPerBatch()));
    const ws = this.ensureWorkspace(perBatch);
    for (let first = 0; first < n; first += perBatch) {
      this.forwardBatch(rec, ws, pixels, first, Math.min(perBatch, n - first), out, n);
    }
  }

  /** DEFAULT_TILES_PER_BATCH, or fewer so that the largest activation fits one storage binding. */
  maxTilesPerBatch(): number {
    const bytes = this.precision === 'f16' ? 2 : 4;
    const widest = Math.max(this.config.intermediateSize, this.hidden, this.config.numChannels * this.patchSize ** 2);
    const fit = Math.floor(this.gpu.limits.maxStorageBufferBindingSize / (this.seqLen * widest * bytes));
    return Math.max(1, Math.min(DEFAULT_TILES_PER_BATCH, fit));
  }

  private forwardBatch(rec: CommandRecorder, ws: Workspace, pixels: Tensor, first: number, tiles: number, out: Tensor, n: number): void {
    const rows = tiles * this.seqLen;
    const view = (t: Tensor, width: number) => reshape(t, [rows, width]);
    const H = this.hidden;
    const x = view(ws.x, H);
    const x2 = view(ws.x2, H);
    const h = view(ws.h, H);
    const patches = view(ws.patches, this.patchEmbedding.inFeatures);
    patchify(rec, pixels, patches, { patchSize: this.patchSize, firstTile: first, tiles });
    matmul(rec, patches, this.patchEmbedding, h);
    // identity position ids: full tiles only (spec §6.2; the processor never makes smaller ones)
    add(rec, h, view(ws.positions, H), x);

    for (const layer of this.layers) {
      layerNorm(rec, x, layer.ln1Weight, layer.ln1Bias, h, { eps: this.config.layerNormEps });
      const q = view(ws.q, H), k = view(ws.k, H), v = view(ws.v, H), attn = view(ws.attn, H);
      matmul(rec, h, layer.q, q);
      matmul(rec, h, layer.k, k);
      matmul(rec, h, layer.v, v);
      this.attendPerTile(rec, ws, q, k, v, attn, tiles);
      matmul(rec, attn, layer.out, h);
      add(rec, x, h, x2);
      layerNorm(rec, x2, layer.ln2Weight, layer.ln2Bias, h, { eps: this.config.layerNormEps });
      const f = view(ws.ffn, this.config.intermediateSize), g = view(ws.ffn2, this.config.intermediateSize);
      matmul(rec, h, layer.fc1, f);
      geluTanh(rec, f, g);
      matmul(rec, g, layer.fc2, h);
      add(rec, x2, h, x);
    }

    if (tiles === n) {
      layerNorm(rec, x, this.postWeight, this.postBias, reshape(out, [rows, H]), { eps: this.config.layerNormEps });
    } else {
      layerNorm(rec, x, this.postWeight, this.postBias, h, { eps: this.config.layerNormEps });
      const tileBytes = this.seqLen * H * bytesOf(out);
      copyRegion(rec, h, 0, out, first * tileBytes, tiles * tileBytes);
    }
  }

  /** Bidirectional attention within each tile: tiles never see each other's patches. */
  private attendPerTile(rec: CommandRecorder, ws: Workspace, q: Tensor, k: Tensor, v: Tensor, out: Tensor, tiles: number): void {
    const shape = [this.seqLen, this.heads, this.headDim];
    const options = { mask: 'bidirectional' as const, scratch: ws.scratch ?? undefined };
    if (tiles === 1) {
      attention(rec, reshape(q, shape), reshape(k, shape), reshape(v, shape), reshape(out, shape), options);
      return;
    }
    const tileBytes = this.seqLen * this.hidden * bytesOf(q);
    for (let t = 0; t < tiles; t++) {
      const at = t * tileBytes;
      copyRegion(rec, q, at, ws.tileQ, 0, tileBytes);
      copyRegion(rec, k, at, ws.tileK, 0, tileBytes);
      copyRegion(rec, v, at, ws.tileV, 0, tileBytes);
      attention(rec, ws.tileQ, ws.tileK, ws.tileV, ws.tileOut, options);
      copyRegion(rec, ws.tileOut, 0, out, at, tileBytes);
    }
  }

  private ensureWorkspace(tiles: number): Workspace {
    if (this.workspace && this.workspace.tiles >= tiles) return this.workspace;
    if (this.workspace) this.retired.push(this.workspace);
    const gpu = this.gpu;
    const dtype = actDType(this.precision);
    const rows = tiles * this.seqLen;
    const H = this.hidden;
    const all: Tensor[] = [];
    const make = (shape: number[], label: string, type: 'f32' | 'f16' = dtype) => {
      const t = Tensor.empty(gpu, shape, type, `vision ${label}`);
      all.push(t);
      return t;
    };
    const head = [this.seqLen, this.heads, this.headDim];
    const scratchSize = attentionScratchElements({ tq: this.seqLen, hq: this.heads, hkv: this.heads, headDim: this.headDim, keys: this.seqLen });
    const ws: Workspace = {
      tiles,
      patches: make([rows, this.patchEmbedding.inFeatures], 'patches'),
      positions: make([rows, H], 'positions'),
      x: make([rows, H], 'x'),
      x2: make([rows, H], 'x2'),
      h: make([rows, H], 'h'),
      q: make([rows, H], 'q'),
      k: make([rows, H], 'k'),
      v: make([rows, H], 'v'),
      attn: make([rows, H], 'attn'),
      ffn: make([rows, this.config.intermediateSize], 'fc1'),
      ffn2: make([rows, this.config.intermediateSize], 'gelu'),
      tileQ: make(head, 'tile q'),
      tileK: make(head, 'tile k'),
      tileV: make(head, 'tile v'),
      tileOut: make(head, 'tile out'),
      scratch: scratchSize > 0 ? make([scratchSize], 'attention scratch', 'f32') : null,
      all,
    };
    // Fill the repeated position table once, in its own submit: queue order puts it before any
    // forward recorded into a recorder that is submitted later.
    const rec = new CommandRecorder(gpu, undefined, 'vision positions');
    const tableBytes = this.positionTable.byteLength;
    for (let t = 0; t < tiles; t++) rec.copy(this.positionTable.buffer, 0, ws.positions.buffer, t * tableBytes, tableBytes);
    rec.submit();
    this.workspace = ws;
    return ws;
  }

  destroy(): void {
    for (const ws of [...this.retired, ...(this.workspace ? [this.workspace] : [])]) ws.all.forEach((t) => t.destroy());
    this.workspace = null;
    this.retired.length = 0;
    destroyWeight(this.patchEmbedding, { bias: true });
    this.positionTable.destroy();
    for (const l of this.layers) {
      [l.q, l.k, l.v, l.out, l.fc1, l.fc2].forEach((w) => destroyWeight(w, { bias: true }));
      [l.ln1Weight, l.ln1Bias, l.ln2Weight, l.ln2Bias].forEach((t) => t.destroy());
    }
    this.postWeight.destroy();
    this.postBias.destroy();
  }
}

/** The same buffer under another shape of at most as many elements (a view from offset 0). */
export function reshape(t: Tensor, shape: readonly number[]): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size > t.size) throw new InputError(`reshape: [${shape.join(', ')}] is larger than [${t.shape.join(', ')}]`);
  return new Tensor(t.gpu, t.buffer, shape, t.dtype);
}

function bytesOf(t: Tensor): number {
  return t.dtype === 'f16' ? 2 : 4;
}

/**
 * Copies a byte range between tensors: inside the compute pass when 16-byte aligned (copyBytes),
 * otherwise with a buffer copy (which ends the pass; still correct).
 */
export function copyRegion(rec: CommandRecorder, src: Tensor, srcByte: number, dst: Tensor, dstByte: number, bytes: number): void {
  if (bytes === 0) return;
  if (bytes % 16 === 0 && srcByte % 16 === 0 && dstByte % 16 === 0) copyBytes(rec, src, srcByte, dst, dstByte, bytes);
  else rec.copy(src.buffer, srcByte, dst.buffer, dstByte, bytes);
}
