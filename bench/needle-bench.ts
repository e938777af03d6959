// Needle in a stream (V-NIAH style) in Node (Dawn): rendered needle streams into the streaming
// engine at several memory configs, and baselines, scored on exact answers; see needle-plan.ts for
// which needles each stream holds and needle-results.ts for the JSON written.
//
//   node dist-node/needle-bench.js --model <folder> [--lengths 60,600,3600] [--depths 0,0.25,0.5,0.75,1]
//     [--seeds-per-cell 20] [--first-seed 1000] [--needles-per-stream 3] [--configs none,8,4,2]
//     [--baselines window,uniform8,allgpu] [--precision f32|f16|auto] [--max-seconds S] [--out needle-results.json] [--resume]
//     [--restore-variant]   (also answer from ReKV-restored K/V on the same engines: method kv-<bits>-restore)
//     [--shard i/n]   (only part i of n of the streams, balanced by frames: n processes share one GPU;
//                      needle-report merges their files)
//     [--retrieval attention|key-summary|max-sim]   (the memory engines' retrieval policy; default: the engine's)
//     [--shared-ingest]   (one raw engine ingests for every memory config; each config's store is the raw one
//                          re-encoded bit for bit as its own engine would have evicted it: one ingest, not one a config)
//
// The results file is rewritten after every stream, so a run cut short keeps what it did; --resume
// reads it back and runs only the streams it lacks (same settings required), so a benchmark longer
// than one command's time limit runs as several commands. --max-seconds: no stream starts after S
// seconds, nor one whose length's last stream took longer than the time left. Progress on stderr.
import { modelSourceOf } from '../src/cli/model-source';
import { modelLoadOptions } from '../src/cli/load-options';
import { acquireNodeGpu } from '../src/platform/node/node-gpu';
import { SmolVlm } from '../src/families/smolvlm/smolvlm';
import { NeedleSession, parseNeedleOptions } from './needle-session';
import { runStream, warmUp } from './needle-run';

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const log = (line: string) => console.error(`[needle-bench ${elapsed().toFixed(1)}s] ${line}`);

const { options: o } = parseNeedleOptions(process.argv.slice(2), 'needle-bench');

const gpu = await acquireNodeGpu();
const loadOptions = modelLoadOptions({ weightFormat: 'f16', precision: o.precision }, gpu);
const adapter = `${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description}`.trim();
log(`adapter: ${adapter} (shader-f16 ${gpu.features.f16}); ${loadOptions.precision ?? 'f32'} math`);
const vlm = await SmolVlm.load(gpu, modelSourceOf(o.model), loadOptions);
log(`model ${o.model} loaded (max positions ${vlm.config.text.maxPositions})`);

const session = new NeedleSession(o, { adapter, f16: gpu.features.f16, precision: vlm.precision, node: process.version }, elapsed, log, 'needle-bench');
log(session.describe());
session.save();
await warmUp(vlm, o.run);
log('warm-up done (pipelines compiled)');
const exitCode = await session.runAll([(job) => runStream(vlm, job, o.run, log)]);
await vlm.dispose();
gpu.destroy();
process.exit(exitCode);
