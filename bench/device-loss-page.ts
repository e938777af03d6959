// Browser entry of the device-loss driver (bench/device-loss-browser.ts): the very scenarios the
// Playwright spec e2e/browser/device-loss.spec.ts runs (e2e/browser/harness/device-loss.ts, on the
// public SDK in its worker, the GPUDevice really destroyed), built as static files for the GPU
// machine, where there is no Vite. The model folder is served at /tools/fixtures/needle-vlm/.
import '../e2e/browser/harness/device-loss';

const status = document.getElementById('status')!;
status.textContent = 'ready';
