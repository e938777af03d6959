/**
 * `npm run fuzz -- [--cases 10000] [--seed 1] [--targets png,y4m] [--workers 2] [--timeout-ms 5000]
 * [--heap-mb 512] [--out fuzz-out] [--json]`: structure-aware fuzzing of every parser and decoder
 * of outside input (tools/fuzz/targets*.ts), each case in a worker thread under a time and memory
 * watchdog, counted as accepted / typed error / escaped exception / invalid acceptance / unnamed
 * typed error / hang / crash. Failing cases' inputs go to --out for replay
 * (`--repro target:index` rewrites one from its seed). Exit status 1 when any case failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { runPool, type CaseJob } from './pool';
import { caseInput, runCase, type CaseResult, type Outcome } from './run-case';
import { TARGETS } from './targets';

const OUTCOMES: Outcome[] = ['accepted', 'typed', 'escaped', 'invalid', 'unnamed', 'hang', 'crash'];
const FAILURES = new Set<Outcome>(['escaped', 'invalid', 'unnamed', 'hang', 'crash']);

interface Options {
  cases: number;
  seed: number;
  targets: string[];
  workers: number;
  timeoutMs: number;
  heapMB: number;
  out: string;
  json: boolean;
  repro?: string;
  /** Run one case in this thread and print its result (debugging a case without the watchdog). */
  inline?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { cases: 300, seed: 1, targets: TARGETS.map((t) => t.name), workers: 2, timeoutMs: 5000, heapMB: 512, out: 'fuzz-out', json: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const n = () => (i++, Number(value));
    if (flag === '--cases') o.cases = n();
    else if (flag === '--seed') o.seed = n();
    else if (flag === '--workers') o.workers = n();
    else if (flag === '--timeout-ms') o.timeoutMs = n();
    else if (flag === '--heap-mb') o.heapMB = n();
    else if (flag === '--targets') (o.targets = value.split(',')), i++;
    else if (flag === '--out') (o.out = value), i++;
    else if (flag === '--repro') (o.repro = value), i++;
    else if (flag === '--inline') (o.inline = value), i++;
    else if (flag === '--json') o.json = true;
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

export interface TargetSummary {
  cases: number;
  counts: Record<Outcome, number>;
  maxMs: number;
  maxMemoryMB: number;
  failures: { index: number; outcome: Outcome; detail?: string }[];
}

function* jobs(o: Options): Generator<CaseJob> {
  // targets interleaved, so a slow one does not leave the others for the end
  for (let index = 0; index < o.cases; index++) for (const target of o.targets) yield { target, seed: o.seed, index };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.inline) {
    const [target, index] = o.inline.split(':');
    const r = await runCase(target, o.seed, Number(index));
    console.log(JSON.stringify({ ...r, input: r.input?.length }));
    return;
  }
  if (o.repro) {
    const [target, index] = o.repro.split(':');
    mkdirSync(o.out, { recursive: true });
    const file = join(o.out, `${target}-${o.seed}-${index}.bin`);
    writeFileSync(file, caseInput(target, o.seed, Number(index)));
    console.log(file);
    return;
  }
  const summary: Record<string, TargetSummary> = {};
  for (const t of o.targets) summary[t] = { cases: 0, counts: Object.fromEntries(OUTCOMES.map((k) => [k, 0])) as Record<Outcome, number>, maxMs: 0, maxMemoryMB: 0, failures: [] };
  const started = Date.now();
  let done = 0;
  const total = o.cases * o.targets.length;
  await runPool(new URL(import.meta.url), jobs(o), { workers: o.workers, timeoutMs: o.timeoutMs, heapMB: o.heapMB }, (r: CaseResult) => {
    const s = summary[r.target];
    s.cases++;
    s.counts[r.outcome]++;
    s.maxMs = Math.max(s.maxMs, r.ms);
    s.maxMemoryMB = Math.max(s.maxMemoryMB, r.memoryMB);
    if (FAILURES.has(r.outcome)) {
      s.failures.push({ index: r.index, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) });
      mkdirSync(o.out, { recursive: true });
      try {
        writeFileSync(join(o.out, `${r.target}-${o.seed}-${r.index}.bin`), r.input ?? caseInput(r.target, o.seed, r.index));
      } catch (e) {
        console.error(`${r.target} #${r.index}: its input could not be saved (${(e as Error).message})`);
      }
      if (!o.json) console.error(`${r.target} #${r.index}: ${r.outcome}${r.detail ? ` — ${r.detail}` : ''}`);
    }
    if (++done % 1000 === 0 && !o.json) console.error(`${done}/${total} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  const seconds = (Date.now() - started) / 1000;
  const failed = Object.values(summary).some((s) => OUTCOMES.some((k) => FAILURES.has(k) && s.counts[k] > 0));
  if (o.json) {
    console.log(JSON.stringify({ seed: o.seed, casesPerTarget: o.cases, seconds, summary }));
  } else {
    console.log(`seed ${o.seed}, ${o.cases} cases per target, ${seconds.toFixed(0)} s, ${o.workers} workers, ${o.timeoutMs} ms / ${o.heapMB} MB a case`);
    console.log(['target'.padEnd(14), ...OUTCOMES.map((k) => k.padStart(9)), 'max ms'.padStart(8), 'max MB'.padStart(8)].join(''));
    for (const [name, s] of Object.entries(summary)) {
      console.log([name.padEnd(14), ...OUTCOMES.map((k) => String(s.counts[k]).padStart(9)), s.maxMs.toFixed(0).padStart(8), s.maxMemoryMB.toFixed(0).padStart(8)].join(''));
    }
  }
  process.exitCode = failed ? 1 : 0;
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 2;
  });
} else if ((workerData as { fuzzWorker?: boolean } | null)?.fuzzWorker) {
  parentPort!.on('message', async (job: CaseJob) => {
    parentPort!.postMessage(await runCase(job.target, job.seed, job.index));
  });
}
