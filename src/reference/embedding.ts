/**
 * Embedding gather: row ids[t] of table [vocab, width] for each token; ids outside the table give
 * a row of zeros (the kernel's documented behaviour; torch would raise instead).
 */
export function embeddingRef(ids: Uint32Array, table: Float32Array, width: number): Float32Array {
  const vocab = table.length / width;
  const out = new Float32Array(ids.length * width);
  ids.forEach((id, t) => {
    if (id < vocab) out.set(table.subarray(id * width, (id + 1) * width), t * width);
  });
  return out;
}
