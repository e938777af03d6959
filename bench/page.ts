// Browser entry of the kernel benchmark: the same suite as Node, in this page's WebGPU.
import { GpuDevice } from '../src/gpu/device';
import { precisionsOf, runChecks } from '../src/selfcheck/index';
import { runSuite } from './suite';

declare global {
  interface Window {
    benchDone?: unknown;
  }
}

const log = document.getElementById('log')!;
const quick = new URLSearchParams(location.search).has('quick');
try {
  const gpu = await GpuDevice.acquire();
  log.textContent = '';
  // Correctness before speed: every kernel against its reference on this GPU, both precisions.
  const reports = await runChecks(gpu);
  const failures = reports.filter((r) => !r.pass).map((r) => `${r.name} [${r.precision}]: ${r.detail}`);
  const checks = { passed: reports.length - failures.length, failed: failures.length, failures };
  log.textContent = `self-check: ${checks.passed} passed, ${checks.failed} failed\n`;
  const results = await runSuite(gpu, {
    quick,
    precisions: precisionsOf(gpu),
    onResult: (r) => (log.textContent += `${r.precision} ${r.name}: ${r.value.toFixed(1)} ${r.unit} (${r.msPerIteration.toFixed(3)} ms)\n`),
  });
  window.benchDone = { host: 'chromium', userAgent: navigator.userAgent, adapter: gpu.adapter, features: gpu.features, quick, checks, results };
} catch (e) {
  window.benchDone = { error: String(e) };
}
