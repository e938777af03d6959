import type { CommandRecorder, RecordedOp } from './recorder';

/**
 * Records a repeated step — a decode step — without running the code that chooses its commands,
 * once that code has shown what it does.
 *
 * A decode step records ~150 dispatches, and in Node most of a token's wall time was the host's
 * work per dispatch (bench/RESULTS.md: ~14 µs, of which the kernel wrappers' validation, uniform
 * packing and pipeline lookup were about half), not the GPU's. From one token to the next the
 * step records the same kernels on the same buffers; only a few uniform words move with the
 * cache length n (the number of keys, the row the new key goes to, the copy of its position) and
 * each moves by a fixed amount a token. A CUDA graph with updated parameters, in WebGPU terms.
 *
 * So: the first steps of a key are recorded by their code and traced. When three steps of one
 * key at n, n+1, n+2 recorded the same commands (pipelines, buffers, workgroup counts), and every
 * uniform word and copy offset changed by the same amount from the first to the second as from
 * the second to the third, the plan holds: a later step of that key at length m is the third
 * trace with each moving value advanced by (m − n − 2) times its step. Anything else a step's
 * commands depend on must be in the key (the caller's): for the text model's decode, the
 * attention's key split and its scratch buffer (TextModel.decodeStepKey).
 *
 * A key whose traces do not agree (a value that moves by different amounts, as a draw written
 * into a uniform would) is refused and its steps are always recorded by their code. The plan
 * only ever replaces what the code would record, so the bits on the GPU are the same
 * (e2e/browser/text-model.spec.ts compares planned steps with the code's recording word for word,
 * and the tokens with and without a plan).
 */
export class StepPlan {
  private key: string | null = null;
  private traces: { n: number; ops: RecordedOp[] }[] = [];
  private plan: Plan | null = null;
  private readonly refused = new Set<string>();
  /** Steps recorded from the plan, and by their code: the benchmarks report both. */
  replayed = 0;
  recorded = 0;

  /**
   * Records one step at length n into `rec`: from the plan when `key` has one, else by calling
   * `record` (which records the step's commands into `rec`). Returns whether the plan recorded
   * it: then `record` was not called, and the caller does what it would have done besides
   * recording (advance the cache).
   */
  step(rec: CommandRecorder, key: string, n: number, record: () => void): boolean {
    if (this.plan && this.key === key) {
      this.plan.record(rec, n);
      this.replayed++;
      return true;
    }
    this.recorded++;
    if (this.refused.has(key)) {
      record();
      return false;
    }
    if (this.key !== key) {
      this.key = key;
      this.traces = [];
      this.plan = null;
    }
    rec.startTrace();
    try {
      record();
    } catch (e) {
      // a step cut short is no trace of a step: start the key's traces again
      rec.endTrace();
      this.traces = [];
      throw e;
    }
    const ops = rec.endTrace();
    const last = this.traces[this.traces.length - 1];
    // traces at consecutive lengths only: the step per unit of n is their difference
    if (last && last.n !== n - 1) this.traces = [];
    this.traces.push({ n, ops });
    if (this.traces.length === 3) {
      this.plan = Plan.from(this.traces);
      if (!this.plan) this.refused.add(key);
      this.traces = [];
    }
    return false;
  }
}

/** A dispatch of the plan: its third trace and, per uniform word that moves, the word and its step. */
interface PlannedDispatch {
  op: Extract<RecordedOp, { kind: 'dispatch' }>;
  words: Uint32Array | null;
  moving: Int32Array;
  steps: Int32Array;
}

interface PlannedCopy {
  op: Extract<RecordedOp, { kind: 'copy' }>;
  /** Steps of srcOffset, dstOffset and size a unit of n. */
  steps: [number, number, number];
}

class Plan {
  private constructor(
    private readonly n: number,
    private readonly ops: (PlannedDispatch | PlannedCopy)[],
  ) {}

  /** The plan of three traces at n, n+1, n+2, or null where they do not agree as the class comment says. */
  static from(traces: readonly { n: number; ops: RecordedOp[] }[]): Plan | null {
    const [a, b, c] = traces.map((t) => t.ops);
    if (a.length !== b.length || a.length !== c.length) return null;
    const ops: (PlannedDispatch | PlannedCopy)[] = [];
    for (let i = 0; i < c.length; i++) {
      const [x, y, z] = [a[i], b[i], c[i]];
      if (x.kind === 'dispatch' && y.kind === 'dispatch' && z.kind === 'dispatch') {
        const same = (p: typeof x) =>
          p.pipeline === z.pipeline && p.storageKey === z.storageKey && p.workgroups.every((w, j) => w === z.workgroups[j]) && (p.uniforms?.length ?? -1) === (z.uniforms?.length ?? -1);
        if (!same(x) || !same(y)) return null;
        const moving: number[] = [];
        const steps: number[] = [];
        if (z.uniforms) {
          for (let w = 0; w < z.uniforms.length; w++) {
            const d1 = (y.uniforms![w] - x.uniforms![w]) | 0;
            const d2 = (z.uniforms[w] - y.uniforms![w]) | 0;
            if (d1 !== d2) return null;
            if (d2 !== 0) {
              moving.push(w);
              steps.push(d2);
            }
          }
        }
        // z.uniforms is the trace's own copy (CommandRecorder.dispatch)
        ops.push({ op: z, words: z.uniforms, moving: Int32Array.from(moving), steps: Int32Array.from(steps) });
      } else if (x.kind === 'copy' && y.kind === 'copy' && z.kind === 'copy') {
        if (x.src !== z.src || y.src !== z.src || x.dst !== z.dst || y.dst !== z.dst) return null;
        const step = (k: 'srcOffset' | 'dstOffset' | 'size') => (y[k] - x[k] === z[k] - y[k] ? z[k] - y[k] : null);
        const s = [step('srcOffset'), step('dstOffset'), step('size')];
        if (s.some((v) => v === null)) return null;
        ops.push({ op: z, steps: s as [number, number, number] });
      } else {
        return null;
      }
    }
    return new Plan(traces[2].n, ops);
  }

  /** Records the step at length m: the third trace, every moving value advanced m − n times its step. */
  record(rec: CommandRecorder, m: number): void {
    const k = m - this.n;
    for (const p of this.ops) {
      if ('words' in p) {
        const { words, moving, steps } = p;
        if (words && moving.length) {
          const patched = words.slice();
          for (let j = 0; j < moving.length; j++) patched[moving[j]] = (words[moving[j]] + k * steps[j]) >>> 0;
          rec.replay(p.op, patched);
        } else {
          rec.replay(p.op, words);
        }
      } else {
        const { op, steps } = p;
        rec.copy(op.src, op.srcOffset + k * steps[0], op.dst, op.dstOffset + k * steps[1], op.size + k * steps[2]);
      }
    }
  }
}
