import { InputError, ModelLoadError } from '../errors';
import type { GpuDevice } from '../gpu/device';
import type { CommandRecorder } from '../gpu/recorder';
import { Tensor, type DType } from '../gpu/tensor';
import { attention, attentionScratchElements, attentionSplitKey, type SplitPartials } from '../kernels/attention';
import { bufferId } from '../gpu/bind-groups';
import type { StepPlan } from '../gpu/step-plan';
import type { Precision } from '../kernels/common';
import { copyBytes } from '../kernels/copy';
import { add } from '../kernels/elementwise';
import { embedding } from '../kernels/embedding';
import { MATVEC_ATTENTION_MAX_K, MATVEC_ATTENTION_MAX_SPLITS, MATVEC_MAX_ROWS, matmul, matmulSwiGlu, matvec, type OutputPart } from '../kernels/matmul';
import { addRmsNorm, rmsNorm } from '../kernels/norm';
import { RopeTable } from '../kernels/rope';
import { destroyWeight, uploadWeight, type Weight, type WeightFormat } from '../kernels/weights';
import type { Checkpoint } from './checkpoint';
import type { SmolVlmConfig, TextConfig } from './config';
import { KvCache, type KvLayerBinding } from '../memory/kv-cache';
import type { LinearSpec, TensorSpec } from './tensor-spec';
import { textTensors } from './text-tensors';


export interface TextModelOptions {
  /** Storage of the linear layers and the head (default f32). */
  weightFormat?: WeightFormat;
  /** Storage of the embedding table for the gather (default f32; f16 halves it). */
  embeddingDType?: 'f32' | 'f16';
  /** Activation dtype = math precision (default f32; f16 needs shader-f16). */
  precision?: Precision;
}

/**
 * One decoder layer. q/k/v and gate/up are each stored as one weight, their rows concatenated
 * (q then k then v; gate then up), so each group is one matmul whose output parts go to separate
 * tensors: rows are computed independently, so the results are those of the separate matmuls.
 */
interface Layer {
  inputNorm: Tensor;
  qkv: Weight;
  o: Weight;
  postNorm: Tensor;
  gateUp: Weight;
  down: Weight;
}

/**
 * Which rows get logits: the newest only (generation), every row (parity tests, scoring), or none
 * (a prefill that only fills the cache, e.g. a streamed frame).
 */
export type LogitRows = 'last' | 'all' | 'none';

export interface ForwardOptions {
  /** Default 'last'. */
  rows?: LogitRows;
  /**
   * Receives every layer's queries before RoPE: [layers, T, heads·headDim] in the activation dtype
   * (retrieval scores questions with them, ReKV-style). Recorded copies; nothing is read back here.
   */
  captureQueries?: Tensor;
}

/** Activations of one step of T tokens, reused by every step of that size. */
interface Workspace {
  tokens: number;
  x: Tensor;
  h: Tensor;
  y: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  attn: Tensor;
  o: Tensor;
  gate: Tensor;
  up: Tensor;
  act: Tensor;
  last: Tensor;
  lastNormed: Tensor;
  lastLogits: Tensor;
  allNormed?: Tensor;
  allLogits?: Tensor;
}

/** The same buffer seen with another shape (matmul wants [T, N], RoPE/attention [T, heads, D]). */
function view(t: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(t.gpu, t.buffer, shape, t.dtype);
}

/**
 * SmolVLM's Llama text decoder (spec §6.5) on WebGPU: embedding table, L pre-norm layers with
 * grouped-query attention over a KV cache (keys stored unrotated, RoPE applied by the attention
 * kernel from the cache's positions), final RMSNorm and the LM head.
 *
 * Every forward is recorded into the caller's CommandRecorder; nothing is read back here.
 * Workspace tensors are owned by the model and reused: the logits a call returns stay valid
 * until the next call with the same number of tokens.
 */
export class TextModel {
  private readonly workspaces = new Map<number, Workspace>();
  private scratch: Tensor | null = null;

  private constructor(
    readonly gpu: GpuDevice,
    readonly config: TextConfig,
    readonly precision: Precision,
    /** [vocab, hidden] f32 or f16, for the gather. */
    readonly embedTable: Tensor,
    private readonly layers: Layer[],
    readonly finalNorm: Tensor,
    readonly head: Weight,
    readonly rope: RopeTable,
  ) {}

  /**
   * Uploads the text decoder from a checkpoint. The head is `lm_head.weight`, or the embedding
   * matrix when it is absent and the config ties them. A missing or mis-shaped tensor throws
   * ModelLoadError naming it.
   */
  static load(gpu: GpuDevice, checkpoint: Checkpoint, config: SmolVlmConfig, options: TextModelOptions = {}): TextModel {
    const format = options.weightFormat ?? 'f32';
    const precision = options.precision ?? 'f32';
    if (precision === 'f16' && !gpu.features.f16) throw new InputError('TextModel: f16 math needs the shader-f16 feature');
    const t = config.text;
    const { hiddenSize: hidden, vocabSize: vocab } = t;

    // everything uploaded so far, freed if a later tensor is missing or mis-shaped
    const created: (Tensor | Weight)[] = [];
    const keep = <T extends Tensor | Weight>(x: T): T => {
      created.push(x);
      return x;
    };
    try {
      const names = textTensors(t, config.tieWordEmbeddings);
      const vector = (spec: TensorSpec) => keep(checkpoint.vector(gpu, spec.name, spec.shape));
      const linear = (spec: LinearSpec) => keep(checkpoint.linear(gpu, spec.prefix, spec.out, spec.in, format));
      const embedValues = checkpoint.float32(names.embed.name, names.embed.shape);
      let head: Weight;
      if (checkpoint.has(names.head.weight.name)) {
        head = linear(names.head);
      } else if (config.tieWordEmbeddings) {
        head = keep(uploadWeight(gpu, embedValues, vocab, hidden, format, { label: 'lm_head (tied)' }));
      } else {
        throw new ModelLoadError('model.safetensors', `missing tensor ${names.head.weight.name} (and tie_word_embeddings is false)`);
      }
      const embedDType: DType = options.embeddingDType ?? 'f32';
      const embedTable = keep(Tensor.from(gpu, embedValues, [vocab, hidden], embedDType, names.embed.name));

      // several Linear layers over the same input as one weight, rows in the order given
      const fused = (label: string, parts: LinearSpec[]) =>
        keep(checkpoint.linearRows(gpu, label, parts.map((part) => ({ name: part.weight.name, out: part.out })), hidden, format));
      const layers: Layer[] = names.layers.map((l) => ({
        inputNorm: vector(l.inputNorm),
        qkv: fused(`${l.prefix}.self_attn.qkv_proj`, [l.q, l.k, l.v]),
        o: linear(l.o),
        postNorm: vector(l.postNorm),
        gateUp: fused(`${l.prefix}.mlp.gate_up_proj`, [l.gate, l.up]),
        down: linear(l.down),
      }));
      const finalNorm = vector(names.norm);
      const rope = RopeTable.create(gpu, { headDim: t.headDim, theta: t.ropeTheta, maxPositions: t.maxPositions });
      return new TextModel(gpu, t, precision, embedTable, layers, finalNorm, head, rope);
    } catch (e) {
      for (const x of created) {
        if (x instanceof Tensor) x.destroy();
        else destroyWeight(x);
      }
      throw e;
    }
  }

  /** A KV cache for this model holding `capacity` tokens (at most max_position_embeddings). */
  createCache(capacity: number): KvCache {
    const t = this.config;
    return KvCache.create(this.gpu, { layers: t.numLayers, capacity, kvHeads: t.numKvHeads, headDim: t.headDim, dtype: this.precision });
  }

  /** An activation tensor [tokens, hidden] for embeddings. */
  createEmbeddings(tokens: number): Tensor {
    return Tensor.empty(this.gpu, [tokens, this.config.hiddenSize], this.precision, 'text embeddings');
  }

  /** Records out[t] = embed_tokens[ids[t]] (ids: u32 [T], out: [T, hidden]). */
  embed(rec: CommandRecorder, ids: Tensor, out: Tensor): void {
    embedding(rec, ids, this.embedTable, out);
  }

  /**
   * Records one decode step at the end of `cache` into `rec`: `record` records it (the token's
   * embedding, a one-token forward with rows 'last', the choice of the next token) the first times;
   * once `plan` has seen what it records (gpu/step-plan.ts), the plan records the same commands
   * without running it and the cache advances by the token here, as forward would have. With
   * plan null, `record` always runs.
   */
  decodeStep(rec: CommandRecorder, cache: KvCache, plan: StepPlan | null, record: () => void): void {
    if (!plan) return record();
    cache.reserve(1);
    if (plan.step(rec, this.decodeStepKey(cache), cache.length, record)) cache.advance(1);
  }

  /**
   * Everything a one-token step's commands depend on besides the cache length (whose values move
   * with it): the attention's key split at this length and the scratch its partials go to (a
   * larger scratch is a new buffer). The cache's own buffers, the workspace and the weights stay
   * the same for a model and a cache; a plan serves one cache.
   */
  private decodeStepKey(cache: KvCache): string {
    const t = this.config;
    const split = attentionSplitKey({ tq: 1, hq: t.numHeads, hkv: t.numKvHeads, headDim: t.headDim, keys: cache.length + 1 });
    return `${split} scratch ${this.scratch ? bufferId(this.scratch.buffer) : 0}`;
  }

  /**
   * Records one forward step of T tokens: their embeddings [T, hidden] at `positions` (u32 [T],
   * written into the cache's positions too) are appended to `cache`, which then holds them, and
   * logits are computed for the last row ([1, vocab]) or every row ([T, vocab]); with rows 'none'
   * the last hidden states [T, hidden] are returned instead (valid until the next same-size call).
   * Prefill and decode are the same step (decode is T = 1); the kernels adapt to T.
   */
  forward(rec: CommandRecorder, cache: KvCache, embeddings: Tensor, positions: Tensor, rowsOrOptions: LogitRows | ForwardOptions = 'last'): Tensor {
    const options = typeof rowsOrOptions === 'string' ? { rows: rowsOrOptions } : rowsOrOptions;
    const rows = options.rows ?? 'last';
    const t = this.config;
    const hidden = t.hiddenSize;
    const tokens = embeddings.size / hidden;
    if (!Number.isInteger(tokens) || tokens < 1 || embeddings.shape[embeddings.shape.length - 1] !== hidden) {
      throw new InputError(`TextModel.forward: embeddings [${embeddings.shape.join(', ')}] must be [T, ${hidden}]`);
    }
    if (embeddings.dtype !== this.precision) throw new InputError(`TextModel.forward: embeddings are ${embeddings.dtype}, the model computes in ${this.precision}`);
    if (positions.dtype !== 'u32' || positions.size !== tokens) throw new InputError(`TextModel.forward: positions must be u32 [${tokens}]`);
    cache.reserve(tokens);
    const ws = this.workspace(tokens);
    const capture = options.captureQueries;
    const qBytes = ws.q.byteLength;
    if (capture && (capture.dtype !== this.precision || capture.byteLength < qBytes * t.numLayers)) {
      throw new InputError(`TextModel.forward: captureQueries must be ${this.precision} [${t.numLayers}, ${tokens}, ${t.numHeads * t.headDim}]`);
    }
    const past = cache.length;
    const keys = past + tokens;
    const scratch = this.scratchFor(tokens, keys);
    cache.recordPositions(rec, positions);
    const q3 = view(ws.q, [tokens, t.numHeads, t.headDim]);
    const attn3 = view(ws.attn, [tokens, t.numHeads, t.headDim]);
    const eps = { eps: t.rmsNormEps };

    // Keys and values go straight from the q/k/v matmul into the cache's next free rows (rows are
    // [kvHeads·headDim] at `length`, as KvCache.append writes them) when the cache holds the
    // activation dtype; otherwise through k/v and KvCache.append (which refuses the mismatch).
    const direct = cache.config.dtype === this.precision;
    const kvWidth = t.numKvHeads * t.headDim;
    const qkvParts = (kv: KvLayerBinding): OutputPart[] => [
      { tensor: ws.q, columns: t.numHeads * t.headDim },
      direct ? { tensor: kv.keys, columns: kvWidth, offset: kv.appendOffset } : { tensor: ws.k, columns: kvWidth },
      direct ? { tensor: kv.values, columns: kvWidth, offset: kv.appendOffset } : { tensor: ws.v, columns: kvWidth },
    ];
    const mlpParts: OutputPart[] = [
      { tensor: ws.gate, columns: t.intermediateSize },
      { tensor: ws.up, columns: t.intermediateSize },
    ];
    const attend = (l: number, kv: KvLayerBinding, deferCombine = 0): SplitPartials | null => {
      if (capture) copyBytes(rec, ws.q, 0, capture, l * qBytes, qBytes);
      if (!direct) cache.append(rec, l, ws.k, ws.v);
      return attention(rec, q3, kv.keys, kv.values, attn3, {
        mask: 'causal',
        keys,
        qStart: past,
        kPositions: kv.positions,
        rope: this.rope,
        // queries go in unrotated and are rotated by attention (in the decode kernel as it reads
        // them); keys go into the cache unrotated and are rotated as attention reads them
        qPositions: positions,
        scratch: scratch ?? undefined,
        deferCombine,
      });
    };
    const lastRowOnly = rows === 'last' && tokens === 1;

    if (tokens <= MATVEC_MAX_ROWS) {
      // Decode (the matrix-vector kernel): each RMSNorm is computed by the projection that reads
      // it (X_RMSNORM) and each residual add by the projection whose output it adds (Y_RESIDUAL),
      // so a layer is four matrix-vector dispatches and attention, two fewer than the path below;
      // for one token over a short cache, attention's split partials are merged by the o
      // projection as it reads them (X_ATTN), one dispatch fewer again; in f32 math the same bits
      // (self-checked against rms_norm, combine, matvec and add; f16: compareFused). Over a long
      // cache `combine` runs on its own (see MATVEC_ATTENTION_MAX_SPLITS).
      const norm = (weight: Tensor) => ({ rmsNorm: { weight, eps: t.rmsNormEps } });
      const mergeInProjection = tokens === 1 && t.numHeads * t.headDim <= MATVEC_ATTENTION_MAX_K;
      let stream = embeddings;
      this.layers.forEach((layer, l) => {
        const kv = cache.binding(l);
        matvec(rec, stream, layer.qkv, qkvParts(kv), norm(layer.inputNorm));
        const split = attend(l, kv, mergeInProjection ? MATVEC_ATTENTION_MAX_SPLITS : 0);
        matvec(rec, ws.attn, layer.o, ws.h, { residual: stream, attention: split ?? undefined });
        matvec(rec, ws.h, layer.gateUp, mlpParts, norm(layer.postNorm));
        matvec(rec, ws.gate, layer.down, ws.x, { swigluUp: ws.up, residual: ws.h });
        stream = ws.x;
      });
      cache.advance(tokens);
      if (rows === 'none') return stream;
      if (rows === 'all') {
        const all = this.allRows(ws);
        matvec(rec, stream, this.head, all.logits, norm(this.finalNorm));
        return all.logits;
      }
      let last = stream;
      if (!lastRowOnly) {
        const rowBytes = ws.last.byteLength;
        copyBytes(rec, stream, (tokens - 1) * rowBytes, ws.last, 0, rowBytes);
        last = ws.last;
      }
      matvec(rec, last, this.head, ws.lastLogits, norm(this.finalNorm));
      return ws.lastLogits;
    }

    // The residual add that ends a layer is fused with the norm that follows it (the next layer's
    // input norm, or the final norm when it runs on every row there is): y already holds the
    // normalised input when a layer starts, except for the first.
    const finalNormed = rows === 'all' ? this.allRows(ws).normed : null;
    rmsNorm(rec, embeddings, this.layers[0].inputNorm, ws.y, eps);
    let x = embeddings;
    this.layers.forEach((layer, l) => {
      const kv = cache.binding(l);
      matmul(rec, ws.y, layer.qkv, qkvParts(kv));
      attend(l, kv);
      matmul(rec, ws.attn, layer.o, ws.o);
      addRmsNorm(rec, x, ws.o, layer.postNorm, ws.h, ws.y, eps);
      matmul(rec, ws.y, layer.gateUp, mlpParts);
      matmulSwiGlu(rec, ws.gate, ws.up, layer.down, ws.o, ws.act);
      const next = this.layers[l + 1];
      if (next) addRmsNorm(rec, ws.h, ws.o, next.inputNorm, ws.x, ws.y, eps);
      else if (finalNormed) addRmsNorm(rec, ws.h, ws.o, this.finalNorm, ws.x, finalNormed, eps);
      else add(rec, ws.h, ws.o, ws.x);
      x = ws.x;
    });
    cache.advance(tokens);

    if (rows === 'none') return x;
    if (rows === 'all') {
      const all = this.allRows(ws);
      matmul(rec, all.normed, this.head, all.logits);
      return all.logits;
    }
    const rowBytes = ws.last.byteLength;
    copyBytes(rec, x, (tokens - 1) * rowBytes, ws.last, 0, rowBytes);
    rmsNorm(rec, ws.last, this.finalNorm, ws.lastNormed, eps);
    matmul(rec, ws.lastNormed, this.head, ws.lastLogits);
    return ws.lastLogits;
  }

  /** Final-norm output and logits of every row, made on first use. */
  private allRows(ws: Workspace): { normed: Tensor; logits: Tensor } {
    const t = this.config;
    ws.allNormed ??= Tensor.empty(this.gpu, [ws.tokens, t.hiddenSize], this.precision, 'final norm (all rows)');
    ws.allLogits ??= Tensor.empty(this.gpu, [ws.tokens, t.vocabSize], this.precision, 'logits (all rows)');
    return { normed: ws.allNormed, logits: ws.allLogits };
  }

  private workspace(tokens: number): Workspace {
    const found = this.workspaces.get(tokens);
    if (found) return found;
    // keep the decode workspace (T = 1) and the latest prefill size; older prefill sizes are freed
    for (const [n, old] of this.workspaces) {
      if (n !== 1) {
        destroyWorkspace(old);
        this.workspaces.delete(n);
      }
    }
    const t = this.config;
    const make = (shape: number[], label: string) => Tensor.empty(this.gpu, shape, this.precision, `text ${label} [${tokens}]`);
    const qw = t.numHeads * t.headDim;
    const kw = t.numKvHeads * t.headDim;
    const ws: Workspace = {
      tokens,
      x: make([tokens, t.hiddenSize], 'x'),
      h: make([tokens, t.hiddenSize], 'h'),
      y: make([tokens, t.hiddenSize], 'y'),
      q: make([tokens, qw], 'q'),
      k: make([tokens, kw], 'k'),
      v: make([tokens, kw], 'v'),
      attn: make([tokens, qw], 'attn'),
      o: make([tokens, t.hiddenSize], 'o'),
      gate: make([tokens, t.intermediateSize], 'gate'),
      up: make([tokens, t.intermediateSize], 'up'),
      act: make([tokens, t.intermediateSize], 'act'),
      last: make([1, t.hiddenSize], 'last row'),
      lastNormed: make([1, t.hiddenSize], 'last row normed'),
      lastLogits: make([1, t.vocabSize], 'logits'),
    };
    this.workspaces.set(tokens, ws);
    return ws;
  }

  /** Attention scratch for this call, grown as the cache fills (it needs more splits for more keys). */
  private scratchFor(tokens: number, keys: number): Tensor | null {
    const t = this.config;
    const needed = attentionScratchElements({ tq: tokens, hq: t.numHeads, hkv: t.numKvHeads, headDim: t.headDim, keys });
    if (needed === 0) return this.scratch;
    if (!this.scratch || this.scratch.size < needed) {
      // destroy() waits for submitted work that still uses the old buffer
      this.scratch?.destroy();
      this.scratch = Tensor.empty(this.gpu, [needed], 'f32', 'attention scratch');
    }
    return this.scratch;
  }

  destroy(): void {
    for (const ws of this.workspaces.values()) destroyWorkspace(ws);
    this.workspaces.clear();
    this.scratch?.destroy();
    for (const l of this.layers) {
      for (const w of [l.qkv, l.o, l.gateUp, l.down]) destroyWeight(w);
      l.inputNorm.destroy();
      l.postNorm.destroy();
    }
    destroyWeight(this.head);
    this.embedTable.destroy();
    this.finalNorm.destroy();
    this.rope.destroy();
  }
}

function destroyWorkspace(ws: Workspace): void {
  for (const v of Object.values(ws)) if (v instanceof Tensor) v.destroy();
}
