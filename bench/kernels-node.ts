// Node entry of the kernel benchmark (Dawn). Prints one JSON line per result and a final summary line.
import { acquireNodeGpu } from '../src/cli/node-gpu';
import { precisionsOf } from '../src/selfcheck/index';
import { runSuite } from './suite';

const quick = process.argv.includes('--quick');
const gpu = await acquireNodeGpu();
const results = await runSuite(gpu, {
  quick,
  precisions: precisionsOf(gpu),
  onResult: (r) => console.error(`[node] ${r.precision} ${r.name}: ${r.value.toFixed(1)} ${r.unit} (${r.msPerIteration.toFixed(3)} ms, ${r.timing})`),
});
console.log(JSON.stringify({ host: 'node-dawn', adapter: gpu.adapter, features: gpu.features, quick, results }));
gpu.destroy();
process.exit(0);
