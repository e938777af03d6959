// Plain tiled matmul, the benchmark's yardstick: c[M, N] = a[M, K] · b[K, N], all row-major `act`,
// M, N, K multiples of 64 (no bounds checks). 8×8 threads, a 64×64 tile, each thread an 8×8 block,
// K in slices of 16 staged in workgroup memory. Products and accumulators are `act` — f16 in the
// F16 variant — which is what makes it a peak figure rather than a model kernel (those accumulate
// in f32).

// Params, bindings, TILE, TILE_K and WG: the contract in src/kernels/linear-kernels.ts (generated header).

const TILE_V: u32 = TILE / 4u;

// as_[k·TILE_V + i/4][i%4] = a[m0 + i, k0 + k];  bs[k·TILE_V + j/4] = b[k0 + k, n0 + j .. +4]
var<workgroup> as_: array<act4, TILE_K * TILE_V>;
var<workgroup> bs: array<act4, TILE_K * TILE_V>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let tx = lid % 8u;
  let ty = lid / 8u;
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let k_v = params.k / 4u;
  let n_v = params.n / 4u;
  var acc: array<act4, 16>;

  for (var k0 = 0u; k0 < params.k; k0 += TILE_K) {
    // a: thread t stages row t (16 k, 4 vec4), transposed to k-major
    for (var j = 0u; j < 4u; j++) {
      let v = a[(m0 + lid) * k_v + k0 / 4u + j];
      for (var q = 0u; q < 4u; q++) { as_[(4u * j + q) * TILE_V + lid / 4u][lid % 4u] = v[q]; }
    }
    // b: 16 rows of 16 vec4; thread t stages column vec4 t%16 of rows t/16, +4, +8, +12
    for (var j = 0u; j < 4u; j++) {
      let k = lid / 16u + 4u * j;
      bs[k * TILE_V + lid % 16u] = b[(k0 + k) * n_v + n0 / 4u + lid % 16u];
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      let av = array<act4, 2>(as_[k * TILE_V + 2u * ty], as_[k * TILE_V + 2u * ty + 1u]);
      let b0 = bs[k * TILE_V + 2u * tx];
      let b1 = bs[k * TILE_V + 2u * tx + 1u];
      for (var i = 0u; i < 8u; i++) {
        let ai = act4(av[i / 4u][i % 4u]);
        acc[2u * i] = fma(ai, b0, acc[2u * i]);
        acc[2u * i + 1u] = fma(ai, b1, acc[2u * i + 1u]);
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 8u; i++) {
    let row = m0 + 8u * ty + i;
    c[row * n_v + n0 / 4u + 2u * tx] = acc[2u * i];
    c[row * n_v + n0 / 4u + 2u * tx + 1u] = acc[2u * i + 1u];
  }
}
