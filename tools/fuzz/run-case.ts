import { StreamVlmError } from '../../src/errors';
import { caseSeed, Rng } from './rng';
import { targetNamed } from './targets';

/** How one case ended. Only the first two are passes. */
export type Outcome = 'accepted' | 'typed' | 'escaped' | 'invalid' | 'unnamed' | 'hang' | 'crash';

export interface CaseResult {
  target: string;
  index: number;
  outcome: Outcome;
  ms: number;
  /** This worker's JS heap plus ArrayBuffer memory after the case, MB (what the case left allocated). */
  memoryMB: number;
  detail?: string;
  /** The input, for a failing case (to save for replay). */
  input?: Uint8Array;
}

/**
 * Runs case `index` of `target` in this thread: generates its input from the seed, runs the parser,
 * and classifies the result. A typed error must be a StreamVlmError whose message names the file.
 */
export async function runCase(targetName: string, runSeed: number, index: number): Promise<CaseResult> {
  const target = targetNamed(targetName);
  const rng = new Rng(caseSeed(runSeed, targetName, index));
  let input: unknown;
  try {
    input = target.make(rng);
  } catch (e) {
    // the generator's own bug, not the parser's: reported, never counted as a pass
    return { target: targetName, index, outcome: 'crash', ms: 0, memoryMB: 0, detail: `case generator failed: ${(e as Error).message}` };
  }
  const started = performance.now();
  let outcome: Outcome;
  let detail: string | undefined;
  try {
    const result = await target.run(input);
    const problem = await target.check(input, result);
    outcome = problem === null ? 'accepted' : 'invalid';
    detail = problem ?? undefined;
  } catch (e) {
    if (e instanceof StreamVlmError) {
      outcome = target.names.some((n) => e.message.includes(n)) ? 'typed' : 'unnamed';
      if (outcome === 'unnamed') detail = `${e.name}: ${e.message.slice(0, 300)}`;
    } else {
      outcome = 'escaped';
      detail = e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}\n${(e.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(e).slice(0, 300);
    }
  }
  const ms = performance.now() - started;
  const mem = process.memoryUsage();
  const result: CaseResult = { target: targetName, index, outcome, ms, memoryMB: (mem.heapUsed + mem.arrayBuffers) / 2 ** 20 };
  if (detail) result.detail = detail;
  if (outcome !== 'accepted' && outcome !== 'typed') result.input = target.bytes(input);
  return result;
}

/** The input of a case, regenerated from its seed (for a hang or crash, whose worker is gone). */
export function caseInput(targetName: string, runSeed: number, index: number): Uint8Array {
  const target = targetNamed(targetName);
  return target.bytes(target.make(new Rng(caseSeed(runSeed, targetName, index))));
}
