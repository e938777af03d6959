/**
 * Plain references of token selection, in f64, by the sort-based definitions transformers uses
 * (TemperatureLogitsWarper → TopKLogitsWarper → TopPLogitsWarper → a draw). The draw takes a
 * caller-given uniform u and picks by inverse CDF over the kept tokens in index order.
 */

/** torch.argmax: the first index of the largest value. */
export function argmaxRef(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export interface SampleRefOptions {
  temperature: number;
  /** 1 = off. */
  topP?: number;
  /** 0 = off. */
  topK?: number;
  /** Uniform in [0, 1). */
  u: number;
}

export interface SampleRefResult {
  id: number;
  /** Tokens left after top-k and top-p. */
  kept: number;
  /**
   * The step of the sorted cumulative probability that top_p fell in: the mass of the tokens more
   * probable than the last kept group, and through that group. Any top_p in (above, through]
   * keeps the same set. [0, 1] when top-p is off.
   */
  topPStep: [above: number, through: number];
  /** The chosen token's interval of the draw, as fractions of the kept mass: u in [from, to) picks it. */
  drawStep: [from: number, to: number];
}

export function sampleRef(logits: ArrayLike<number>, options: SampleRefOptions): SampleRefResult {
  const { temperature, topP = 1, topK = 0, u } = options;
  const vocab = logits.length;
  const x = Array.from(logits, (l) => l / temperature);
  const keep = new Array<boolean>(vocab).fill(true);

  // Top-k: remove scores below the k-th largest; scores tied with it stay (`scores < topk[..., -1]`).
  if (topK > 0 && topK < vocab) {
    const kth = [...x].sort((a, b) => b - a)[topK - 1];
    for (let i = 0; i < vocab; i++) keep[i] = x[i] >= kth;
  }

  // Softmax over the survivors.
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (keep[i]) max = Math.max(max, x[i]);
  const p = x.map((v, i) => (keep[i] ? Math.exp(v - max) : 0));
  const z = p.reduce((a, b) => a + b, 0);
  for (let i = 0; i < vocab; i++) p[i] /= z;

  // Top-p: sort descending and keep through the first token where the cumulative probability
  // reaches top_p. torch.sort leaves the order of equal probabilities unspecified; here every
  // token tied with that last one stays too, which makes the kept set order-independent.
  let topPStep: [number, number] = [0, 1];
  if (topP < 1) {
    const order = [...p.keys()].filter((i) => keep[i]).sort((a, b) => p[b] - p[a] || a - b);
    let cumulative = 0;
    let cut = p[order[order.length - 1]];
    for (const i of order) {
      cumulative += p[i];
      if (cumulative >= topP) {
        cut = p[i];
        break;
      }
    }
    let above = 0;
    let through = 0;
    for (let i = 0; i < vocab; i++) {
      if (!keep[i]) continue;
      if (p[i] > cut) above += p[i];
      if (p[i] >= cut) through += p[i];
      else keep[i] = false;
    }
    topPStep = [above, through];
  }

  // Draw: the first kept token (index order) whose cumulative renormalised mass exceeds u.
  let total = 0;
  let kept = 0;
  for (let i = 0; i < vocab; i++) {
    if (keep[i]) {
      total += p[i];
      kept++;
    }
  }
  const goal = u * total;
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < vocab; i++) {
    if (!keep[i] || p[i] <= 0) continue;
    last = i;
    const before = cumulative;
    cumulative += p[i];
    if (cumulative > goal) return { id: i, kept, topPStep, drawStep: [before / total, cumulative / total] };
  }
  return { id: last, kept, topPStep, drawStep: [1, 1] };
}
