// Node entry of the kernel benchmark (Dawn). Prints one JSON line per result and a final summary line.
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { precisionsOf, runChecks } from '../src/selfcheck/index';
import { runSuite } from './suite';

const quick = process.argv.includes('--quick');
// --filter S: only the kernel cases (and self-checks) whose name contains S, for a short same-run pair
const filterAt = process.argv.indexOf('--filter');
const filter = filterAt >= 0 ? process.argv[filterAt + 1] : undefined;
const gpu = await acquireNodeGpu();
// Correctness before speed: every kernel against its reference on this GPU, both precisions.
const reports = await runChecks(gpu, { filter });
const failures = reports.filter((r) => !r.pass).map((r) => `${r.name} [${r.precision}]: ${r.detail}`);
const checks = { passed: reports.length - failures.length, failed: failures.length, failures };
console.error(`[node] self-check: ${checks.passed} passed, ${checks.failed} failed`);
const results = await runSuite(gpu, {
  quick,
  filter,
  precisions: precisionsOf(gpu),
  onResult: (r) => console.error(`[node] ${r.precision} ${r.name}: ${r.value.toFixed(1)} ${r.unit} (${r.msPerIteration.toFixed(3)} ms, ${r.timing})`),
});
console.log(JSON.stringify({ host: 'node-dawn', adapter: gpu.adapter, features: gpu.features, quick, checks, results }));
gpu.destroy();
process.exit(0);
