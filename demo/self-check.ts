// The "GPU check" panel: which WebGPU adapter this browser gives, and the kernel self-check with a
// visible pass/fail. Runs on the page's own GPU device, only when the panel is opened (so it does
// not compete with the engine's worker for the GPU unless asked).
import { GpuDevice, StreamVlmError } from '../src/index';
import { checks, runChecks, type CheckReport } from '../src/selfcheck/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function addRow(list: HTMLElement, term: string, value: string): void {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  list.append(dt, dd);
}

function showResult(r: CheckReport): void {
  const row = document.createElement('tr');
  const cells = [r.name, r.precision, Number.isFinite(r.maxAbsError) ? r.maxAbsError.toExponential(2) : '—', r.pass ? 'pass' : `FAIL ${r.detail ?? ''}`, r.ms.toFixed(0)];
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    row.append(td);
  }
  row.children[3].className = r.pass ? 'pass' : 'fail';
  $('checks').querySelector('tbody')!.append(row);
}

async function selfCheck(gpu: GpuDevice, full: boolean): Promise<void> {
  const status = $('check-status');
  $('checks').querySelector('tbody')!.replaceChildren();
  status.className = '';
  status.dataset.state = 'running';
  // The quick check runs the first case of each kernel family: seconds even on a CPU adapter.
  const families = [...new Set(checks.map((c) => c.family))];
  const filters = full ? [undefined] : families.map((f) => checks.find((c) => c.family === f)!.name);
  status.textContent = `Running ${full ? 'the full' : 'a quick'} self-check…`;
  const reports: CheckReport[] = [];
  for (const filter of filters) reports.push(...(await runChecks(gpu, { filter, onResult: showResult })));
  const failed = reports.filter((r) => !r.pass).length;
  status.textContent = failed === 0 ? `Self-check passed: ${reports.length} of ${reports.length} kernels match.` : `Self-check FAILED: ${failed} of ${reports.length} kernels differ from the reference.`;
  status.className = failed === 0 ? 'pass' : 'fail';
  status.dataset.state = failed === 0 ? 'pass' : 'fail';
}

async function start(): Promise<void> {
  let gpu: GpuDevice;
  try {
    gpu = await GpuDevice.acquire();
  } catch (error) {
    const message = $('gpu-message');
    message.hidden = false;
    message.textContent = error instanceof StreamVlmError ? `${error.message} ${error.advice}` : String(error);
    $('check-status').textContent = 'The self-check needs WebGPU.';
    $('check-status').dataset.state = 'unavailable';
    return;
  }
  gpu.onLost((e) => {
    const message = $('gpu-message');
    message.hidden = false;
    message.textContent = `${e.message} ${e.advice}`;
  });
  const adapter = $('adapter');
  addRow(adapter, 'Vendor', gpu.adapter.vendor || 'unknown');
  addRow(adapter, 'Architecture', gpu.adapter.architecture || 'unknown');
  if (gpu.adapter.description) addRow(adapter, 'Description', gpu.adapter.description);
  addRow(adapter, 'shader-f16', gpu.features.f16 ? 'yes (f16 math)' : 'no (f32 math, f16 weights packed in u32)');
  addRow(adapter, 'subgroups', gpu.features.subgroups ? 'yes' : 'no');
  addRow(adapter, 'timestamp-query', gpu.features.timestamps ? 'yes' : 'no');
  const limits = $('limits');
  for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension']) {
    addRow(limits, key, String((gpu.limits as unknown as Record<string, number>)[key]));
  }
  const button = $<HTMLButtonElement>('run-all');
  button.addEventListener('click', async () => {
    button.disabled = true;
    await selfCheck(gpu, true);
    button.disabled = false;
  });
  await selfCheck(gpu, false);
  button.disabled = false;
}

/** Starts the adapter report and quick self-check the first time `panel` opens. */
export function setUpGpuCheck(panel: HTMLDetailsElement): void {
  let started = false;
  const maybeStart = () => {
    if (panel.open && !started) {
      started = true;
      void start();
    }
  };
  panel.addEventListener('toggle', maybeStart);
  maybeStart();
}
