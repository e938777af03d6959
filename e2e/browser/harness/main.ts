// The one page the browser specs drive (e2e/browser/harness/index.html?use=<area>). Each area is a
// module that exposes its functions on window (window.textHarness, window.persistHarness, …) for
// page.evaluate; only the area asked for is loaded, so a page acquires only the GPU device and
// state that area needs, as when each area had a page of its own. #status turns 'ready' once the
// area's module has run.
const AREAS = {
  kernels: () => import('./kernels'),
  cache: () => import('./cache'),
  'crash-save': () => import('./crash-save'),
  'device-loss': () => import('./device-loss'),
  persist: () => import('./persist'),
  pipeline: () => import('./pipeline'),
  preprocess: () => import('./preprocess'),
  ranking: () => import('./ranking'),
  sdk: () => import('./sdk'),
  'memory-interchange': () => import('./memory-interchange'),
  'sdk-storage': () => import('./sdk-storage'),
  stream: () => import('./stream'),
  text: () => import('./text'),
  vision: () => import('./vision'),
  worker: () => import('./worker'),
} satisfies Record<string, () => Promise<unknown>>;

export type HarnessArea = keyof typeof AREAS;

const status = document.getElementById('status')!;
const use = new URLSearchParams(location.search).get('use');
if (use && Object.hasOwn(AREAS, use)) {
  await AREAS[use as HarnessArea]();
  status.textContent = 'ready';
} else {
  status.textContent = `unknown harness area "${use}": use one of ${Object.keys(AREAS).join(', ')}`;
}
