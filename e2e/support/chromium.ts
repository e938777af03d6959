import { existsSync } from 'node:fs';

/**
 * Which Chromium runs the tests and with what flags. A system Chromium (`CHROMIUM_PATH`, or Debian's
 * `/usr/bin/chromium`) is used when present, since Playwright cannot download its own build
 * everywhere; otherwise Playwright's bundled Chromium (`npx playwright install chromium`).
 */
export function chromiumExecutable(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/**
 * WebGPU flags. Without a GPU, Chromium's SwiftShader (a CPU Vulkan) provides the adapter.
 * `gpuArgs` (default `CHROMIUM_GPU_ARGS`, set on the GPU machine) adds the flags that put WebGPU on
 * the real card. The tests and the browser benchmarks (bench/chromium-launch.ts) launch with these.
 */
export function chromiumArgs(gpuArgs = process.env.CHROMIUM_GPU_ARGS ?? ''): string[] {
  const extra = gpuArgs.split(/\s+/).filter(Boolean);
  return [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--enable-unsafe-swiftshader',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    ...extra,
  ];
}
