import { execFileSync } from 'node:child_process';
import { expect, test } from '@playwright/test';

// Issue #14, in the suite: a few hundred seeded, structure-aware fuzz cases per parser and decoder
// of outside input (tools/fuzz/), each in a worker thread under a 5 s / 512 MB watchdog. Every case
// must end accepted-and-valid or in a typed error naming the file: no escaped exception, no hang,
// no crash. The long run is `npm run fuzz -- --cases 10000` (RELIABILITY.md has its counts).

const CASES = 200;

interface Summary {
  seconds: number;
  summary: Record<string, { cases: number; counts: Record<string, number>; maxMs: number; failures: { index: number; outcome: string; detail?: string }[] }>;
}

test('every parser survives seeded fuzzing: only valid acceptances and typed errors', async () => {
  test.setTimeout(180_000);
  execFileSync('npx', ['vite', 'build', '--config', 'vite.fuzz.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  let stdout: string;
  try {
    stdout = execFileSync('node', ['dist-fuzz/fuzz.js', '--cases', String(CASES), '--seed', '1414', '--json', '--out', 'test-results/fuzz-out'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    // exit status 1: some case failed; its JSON still says which
    stdout = (e as { stdout?: string }).stdout ?? '';
  }
  const result = JSON.parse(stdout) as Summary;
  const names = Object.keys(result.summary);
  expect(names).toEqual(['safetensors', 'shards', 'config', 'processor', 'tokenizer', 'template', 'png', 'jpeg', 'y4m', 'memory-block', 'memory-index', 'open-memory']);
  for (const [name, s] of Object.entries(result.summary)) {
    expect(s.failures, `${name}: ${JSON.stringify(s.failures.slice(0, 3))}`).toEqual([]);
    expect(s.cases).toBe(CASES);
    // the mutations reach both sides: some inputs stay valid, many are refused
    expect(s.counts.accepted, `${name} accepted`).toBeGreaterThan(0);
    expect(s.counts.typed, `${name} refused`).toBeGreaterThan(CASES / 10);
  }
});
