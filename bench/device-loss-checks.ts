// What bench/device-loss-browser.ts checks of each scenario's result: the assertions of
// e2e/browser/device-loss.spec.ts as one table row, so that the GPU machine (no @playwright/test)
// judges a run as the spec does. On a fast card an answer may end before the destroyed device's
// loss reaches it: then it must have the tokens of the answer before the loss, and that is said.
import type { Answer, Failure, LossResult, LostEveryTryResult, NoBackupResult } from '../e2e/browser/harness/device-loss';

export const SCENARIOS = ['losses-4bit', 'losses-raw', 'no-backup', 'lost-every-try'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface Row {
  scenario: ScenarioName;
  /** The activation precision of the stream ('-' where no stream loaded). */
  math: string;
  /** The answers after the losses against the one before them (or the run without loss). */
  sameTokens: string;
  /** The device events seen, in order. */
  events: string;
  /** How the calls the loss broke ended. */
  typedErrors: string;
  /** The stats that count the losses and the frames. */
  stats: string;
  pass: boolean;
  problems: string[];
  seconds?: number;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isAnswer = (x: Answer | Failure): x is Answer => 'tokens' in x;
const typedLoss = (x: unknown) => typeof x === 'object' && x !== null && (x as Failure).name === 'DeviceLostError' && (x as Failure).code === 'DEVICE_LOST' && (x as Failure).typed === true;

/** Collects the failed expectations: `expect(ok, what)`. */
function checker() {
  const problems: string[] = [];
  return { problems, expect: (ok: boolean, what: string) => void (ok || problems.push(what)) };
}

function lossRun(r: LossResult, lossesInLoads: boolean, c: ReturnType<typeof checker>): Omit<Row, 'scenario' | 'pass' | 'problems'> {
  const { expect } = c;
  const m = r.midStream;
  const { frames, windowFrames: win } = r.setup;
  const stored = frames - win;
  const fromMemory = r.before.moments.find((x) => x.frameIndex === r.needle.frame)?.from;
  expect(fromMemory === 'memory' && r.before.tokens.length > 0, `the answer before the loss did not recall the needle's frame from memory (${fromMemory})`);
  const answerSame = same(r.afterAnswer.tokens, r.before.tokens) && same(r.afterAnswer.moments, r.before.moments);
  const streamSame = same(m.answer.tokens, r.before.tokens) && same(m.answer.moments, r.before.moments);
  expect(answerSame, `after the mid-answer loss: tokens ${JSON.stringify(r.afterAnswer.tokens)}, before ${JSON.stringify(r.before.tokens)}`);
  expect(streamSame, `after the mid-stream loss: tokens ${JSON.stringify(m.answer.tokens)}, before ${JSON.stringify(r.before.tokens)}`);
  // the answer streaming at the loss: typed, or (a fast card) finished first with the same tokens
  const mid = r.midAnswer;
  const midOk = isAnswer(mid) ? same(mid.tokens, r.before.tokens) : typedLoss(mid);
  expect(midOk, `the answer at the loss ended ${JSON.stringify(mid)}`);
  expect('blocks' in r.saved && r.saved.blocks === frames, `saveMemory after the loss: ${JSON.stringify(r.saved)}`);
  expect(same(r.events, ['devicelost', `recovered:${win}/0`]), `mid-answer events ${r.events.join(',')}`);
  const streamEvents = lossesInLoads ? ['devicelost', 'devicelost', 'recovered:W/0'] : ['devicelost', 'recovered:W/0'];
  expect(same(m.events.map((e) => (e === `recovered:${win}/0` || e === `recovered:${win - 1}/0` ? 'recovered:W/0' : e)), streamEvents), `mid-stream events ${m.events.join(',')}`);
  expect(same(m.loadEvents, lossesInLoads ? ['devicelost', 'recovered:0/0'] : []), `load events ${m.loadEvents.join(',')}`);
  const e1 = r.statsAfterAnswerLoss.engine;
  const e2 = m.stats.engine;
  expect(e1?.framesLostToDeviceLoss === 0 && e1?.framesIngested === frames && e1?.storeFrames === stored && e1?.windowFrames === win, `stats after the mid-answer loss: ${JSON.stringify(e1)}`);
  expect(e2?.framesLostToDeviceLoss === 0 && e2?.framesIngested === frames && e2?.storeFrames === stored && e2?.windowFrames === win, `stats after the mid-stream loss: ${JSON.stringify(e2)}`);
  expect(m.stats.frames.ingested === frames && m.stats.frames.failed === 0 && m.stats.frames.droppedQueueFull === 0, `frames after the mid-stream loss: ${JSON.stringify(m.stats.frames)}`);
  // destroyed while frames waited and ingested, not after the stream (a fast card could outrun the harness)
  expect(m.lostAtIngested >= r.setup.lossAtIngested && m.lostAtIngested < frames, `the mid-stream loss came at ${m.lostAtIngested} of ${frames} frames ingested`);
  const rec = m.stats.recovery;
  expect(rec?.losses === (lossesInLoads ? 3 : 1) && rec?.recoveries === (lossesInLoads ? 2 : 1) && rec?.failed === null, `recovery stats of the second stream: ${JSON.stringify(rec)}`);
  expect(same(m.timeline, r.timelineBefore) && same(r.timelineDuringRecovery, r.timelineBefore), 'the timeline changed across a loss');
  return {
    math: r.precision,
    sameTokens: answerSame && streamSame ? `yes (${r.before.tokens.length} tokens ×2)` : 'NO',
    events: `answer: ${r.events.join(',')}; load: ${m.loadEvents.join(',') || '-'}; stream: ${m.events.join(',')}`,
    typedErrors: isAnswer(mid) ? 'answer finished before the loss' : `${mid.name}${typedLoss(mid) ? '' : ' (untyped)'}`,
    stats: `lost at ${m.lostAtIngested}/${frames} ingested; lost frames ${e1?.framesLostToDeviceLoss}/${e2?.framesLostToDeviceLoss}; losses ${rec?.losses}, recoveries ${rec?.recoveries}; saved ${'blocks' in r.saved ? r.saved.blocks : '-'}`,
  };
}

function noBackup(r: NoBackupResult, c: ReturnType<typeof checker>): Omit<Row, 'scenario' | 'pass' | 'problems'> {
  const { expect } = c;
  const { frames, windowFrames: win } = r.setup;
  expect(same(r.events, ['devicelost', 'devicelost', `recovered:0/${win}`]), `events ${r.events.join(',')}`);
  const e = r.stats.engine;
  expect(e?.framesLostToDeviceLoss === win && e?.storeFrames === frames - win && e?.windowFrames === 0, `stats ${JSON.stringify(e)}`);
  expect(r.stats.recovery?.losses === 2 && r.stats.recovery?.recoveries === 1, `recovery stats ${JSON.stringify(r.stats.recovery)}`);
  expect(same(r.timeline, Array.from({ length: frames - win }, (_, i) => i * 1000)), `timeline ${JSON.stringify(r.timeline)}`);
  expect(r.after.moments.find((m) => m.frameIndex === r.needleFrame)?.from === 'memory', 'the needle is not recalled from memory after the loss');
  const sameText = r.after.text === r.before.text;
  expect(sameText, `after: "${r.after.text}", before: "${r.before.text}"`);
  expect(r.ingestedAfter === frames + 1, `frames ingested after one more: ${r.ingestedAfter}`);
  return { math: r.precision, sameTokens: sameText ? 'same text (window frames lost by design)' : 'NO', events: r.events.join(','), typedErrors: '-', stats: `lost frames ${e?.framesLostToDeviceLoss}; losses ${r.stats.recovery?.losses}, recoveries ${r.stats.recovery?.recoveries}` };
}

function everyTry(r: LostEveryTryResult, c: ReturnType<typeof checker>): Omit<Row, 'scenario' | 'pass' | 'problems'> {
  const { expect } = c;
  expect(typedLoss(r.outcome), `load() ended ${JSON.stringify(r.outcome)}`);
  expect(same(r.events, ['devicelost', 'devicelost', 'devicelost', 'devicelost']), `events ${r.events.join(',')}`);
  expect(r.ms < 30_000, `load() took ${Math.round(r.ms)} ms to fail`);
  return { math: '-', sameTokens: '-', events: r.events.join(','), typedErrors: r.outcome === 'loaded' ? 'loaded (!)' : `${r.outcome.name} in ${(r.ms / 1000).toFixed(1)} s`, stats: '-' };
}

export function checkScenario(scenario: ScenarioName, result: LossResult | NoBackupResult | LostEveryTryResult, pageErrors: string[]): Row {
  const c = checker();
  const cells =
    scenario === 'losses-4bit' || scenario === 'losses-raw'
      ? lossRun(result as LossResult, scenario === 'losses-4bit', c)
      : scenario === 'no-backup'
        ? noBackup(result as NoBackupResult, c)
        : everyTry(result as LostEveryTryResult, c);
  c.expect(pageErrors.length === 0, `page errors: ${pageErrors.join(' | ')}`);
  return { scenario, ...cells, pass: c.problems.length === 0, problems: c.problems };
}
