import { expect, test } from '@playwright/test';
import { InputError } from '../../src/errors';
import { Scheduler, type SchedulableEngine } from '../../src/engine/scheduler';

// The worker's scheduling policy, in Node: the Scheduler is generic over the engine, so these drive
// it with a recording engine whose calls finish when the test opens a gate. That makes the order of
// events exact (no timing): what was ingested when a question ran, what was dropped, what released.

type Frame = { id: number };
type Event = { type: 'token'; seen: number[] } | { type: 'done' };

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

class RecordingEngine implements SchedulableEngine<Frame, { tokens: number }, Event> {
  readonly ingested: number[] = [];
  readonly log: string[] = [];
  /** When set, each ingest waits for the next gate in the list (one per call). */
  ingestGates: ReturnType<typeof gate>[] | null = null;
  askGate: ReturnType<typeof gate> | null = null;
  failOn = new Set<number>();

  async ingest(frame: Frame, timestampMs: number): Promise<void> {
    this.log.push(`ingest ${frame.id}@${timestampMs}`);
    const g = this.ingestGates?.shift();
    if (g) await g.promise;
    if (this.failOn.has(frame.id)) throw new InputError(`frame ${frame.id} is bad`);
    this.ingested.push(frame.id);
  }

  async *ask(question: string, options?: { tokens: number }): AsyncGenerator<Event> {
    this.log.push(`ask ${question}`);
    if (question === 'fail') throw new InputError('ask: the question is empty');
    for (let i = 0; i < (options?.tokens ?? 2); i++) {
      if (i === 1 && this.askGate) await this.askGate.promise;
      yield { type: 'token', seen: [...this.ingested] };
    }
    yield { type: 'done' };
  }
}

function setup(options: { fps?: number; queueCapacity?: number } = {}) {
  const engine = new RecordingEngine();
  const released: number[] = [];
  const scheduler = new Scheduler(engine, { ...options, release: (f) => released.push(f.id) });
  return { engine, released, scheduler };
}

test('sampling by timestamp: a 30 fps flood at fps 1 keeps one frame a second, the rest counted', async () => {
  const { engine, released, scheduler } = setup({ fps: 1, queueCapacity: 16 });
  const results = [];
  for (let i = 0; i < 150; i++) results.push(scheduler.offer({ id: i }, (i * 1000) / 30));
  await scheduler.idle();
  // taken when ts ≥ last taken + 1000 ms: frames 0, 30, 60, 90, 120 (0 s … 4 s)
  expect(engine.ingested).toEqual([0, 30, 60, 90, 120]);
  expect(results.filter((r) => r.accepted)).toHaveLength(5);
  expect(results[1]).toEqual({ accepted: false, reason: 'sampled-out' });
  const s = scheduler.stats();
  expect(s).toMatchObject({ offered: 150, accepted: 5, ingested: 5, sampledOut: 145, droppedQueueFull: 0, rejected: 0, failed: 0, queueDepth: 0, fps: 1 });
  expect(released).toHaveLength(145); // every frame not taken is released (VideoFrames closed)

  // the rate can change mid-stream; a duplicate timestamp is never taken twice
  scheduler.fps = 4;
  scheduler.offer({ id: 200 }, 5250);
  scheduler.offer({ id: 201 }, 5400); // < 5250 + 250
  scheduler.offer({ id: 202 }, 5500);
  scheduler.fps = Infinity;
  expect(scheduler.offer({ id: 203 }, 5500)).toEqual({ accepted: false, reason: 'sampled-out' });
  scheduler.offer({ id: 204 }, 5501);
  await scheduler.idle();
  expect(engine.ingested.slice(5)).toEqual([200, 202, 204]);
  expect(() => (scheduler.fps = 0)).toThrow(InputError);
});

test('falling behind: the queue is bounded, the oldest waiting frame is dropped and counted', async () => {
  const { engine, released, scheduler } = setup({ fps: Infinity, queueCapacity: 3 });
  const first = gate();
  engine.ingestGates = [first];
  for (let i = 0; i < 10; i++) scheduler.offer({ id: i }, i * 10);
  // frame 0 is in the engine; 1…6 were pushed out by newer ones; 7, 8, 9 wait
  expect(scheduler.stats()).toMatchObject({ accepted: 10, droppedQueueFull: 6, queueDepth: 3, queueCapacity: 3 });
  expect(released).toEqual([1, 2, 3, 4, 5, 6]);
  first.open();
  await scheduler.idle();
  expect(engine.ingested).toEqual([0, 7, 8, 9]);
  expect(scheduler.stats()).toMatchObject({ ingested: 4, queueDepth: 0 });
  expect(scheduler.stats().meanIngestMs).toBeGreaterThanOrEqual(0);
});

test('bad timestamps are InputErrors for that frame only; queue and stream stay intact', async () => {
  const { engine, released, scheduler } = setup({ fps: Infinity });
  const hold = gate();
  engine.ingestGates = [hold];
  scheduler.offer({ id: 0 }, 1000);
  scheduler.offer({ id: 1 }, 2000);
  expect(() => scheduler.offer({ id: 2 }, 1500)).toThrow(/goes back before the previous frame \(2000 ms\)/);
  expect(() => scheduler.offer({ id: 3 }, Number.NaN)).toThrow(InputError);
  expect(() => scheduler.offer({ id: 4 }, -5)).toThrow(/finite number of milliseconds ≥ 0/);
  expect(() => scheduler.offer({ id: 5 }, Infinity)).toThrow(InputError);
  expect(() => scheduler.offer({ id: 6 }, '3000' as unknown as number)).toThrow(InputError);
  expect(released).toEqual([2, 3, 4, 5, 6]);
  expect(scheduler.stats()).toMatchObject({ rejected: 5, queueDepth: 1 });
  scheduler.noteRejected(); // a frame the worker refused for its pixels
  expect(scheduler.stats()).toMatchObject({ offered: 8, rejected: 6 });
  scheduler.offer({ id: 7 }, 3000);
  hold.open();
  await scheduler.idle();
  expect(engine.ingested).toEqual([0, 1, 7]);

  // a frame the engine refuses is counted and reported; the next one is ingested
  engine.failOn.add(8);
  const errors: number[] = [];
  const s2 = new Scheduler(engine, { fps: Infinity, onIngestError: (_e, ts) => errors.push(ts) });
  s2.offer({ id: 8 }, 0);
  s2.offer({ id: 9 }, 1);
  await s2.idle();
  expect(engine.ingested.slice(-1)).toEqual([9]);
  expect(s2.stats()).toMatchObject({ ingested: 1, failed: 1, lastError: { name: 'InputError', message: 'frame 8 is bad', timestampMs: 0 } });
  expect(errors).toEqual([0]);
});

test('a question goes before waiting frames and never sees frames that arrived after it', async () => {
  const { engine, scheduler } = setup({ fps: Infinity, queueCapacity: 8 });
  const inFlight = gate();
  engine.ingestGates = [inFlight];
  scheduler.offer({ id: 0 }, 0);
  scheduler.offer({ id: 1 }, 100);
  scheduler.offer({ id: 2 }, 200);
  const events: Event[] = [];
  engine.askGate = gate();
  const answered = scheduler.ask('what?', { tokens: 3 }, (e) => events.push(e));
  expect(scheduler.stats().asksPending).toBe(1);
  inFlight.open(); // frame 0 finishes; the question runs next, ahead of frames 1 and 2
  await tick();
  await tick();
  expect(engine.log).toEqual(['ingest 0@0', 'ask what?']);
  // frames keep being accepted while the answer streams
  expect(scheduler.offer({ id: 3 }, 300)).toEqual({ accepted: true, queueDepth: 3 });
  expect(scheduler.stats()).toMatchObject({ queueDepth: 3, ingested: 1, asksPending: 1 });
  engine.askGate.open();
  await answered;
  expect(events.map((e) => e.type)).toEqual(['token', 'token', 'token', 'done']);
  for (const e of events) if (e.type === 'token') expect(e.seen).toEqual([0]);
  await scheduler.idle();
  expect(engine.ingested).toEqual([0, 1, 2, 3]);
  expect(engine.log).toEqual(['ingest 0@0', 'ask what?', 'ingest 1@100', 'ingest 2@200', 'ingest 3@300']);
  expect(scheduler.stats().asksPending).toBe(0);

  // a failing question rejects with the engine's error; the stream goes on
  await expect(scheduler.ask('fail', undefined, () => {})).rejects.toThrow(InputError);
  scheduler.offer({ id: 4 }, 400);
  await scheduler.idle();
  expect(engine.ingested).toEqual([0, 1, 2, 3, 4]);
  // an aborted question stops at its next event; one aborted before it runs never starts
  const signal = { aborted: false };
  engine.askGate = gate();
  const seen: Event[] = [];
  const stopped = scheduler.ask('stop me', { tokens: 5 }, (e) => {
    seen.push(e);
    signal.aborted = true;
  }, signal);
  engine.askGate.open();
  await stopped;
  expect(seen).toHaveLength(1);
  await scheduler.ask('never', undefined, () => seen.push({ type: 'done' }), { aborted: true });
  expect(seen).toHaveLength(1);
  expect(engine.log.filter((l) => l.startsWith('ask'))).toEqual(['ask what?', 'ask fail', 'ask stop me']);
  // a listener that throws loses its events, not the answer
  await scheduler.ask('again', undefined, () => {
    throw new Error('listener bug');
  });
});

test('pause drops offered frames (counted) but answers questions; resume ingests what waited', async () => {
  const { engine, released, scheduler } = setup({ fps: Infinity });
  const hold = gate();
  engine.ingestGates = [hold];
  scheduler.offer({ id: 0 }, 0);
  scheduler.offer({ id: 1 }, 10); // waits
  scheduler.pause();
  expect(scheduler.offer({ id: 2 }, 20)).toEqual({ accepted: false, reason: 'paused' });
  hold.open();
  await scheduler.idle(); // paused: frame 1 waits, nothing runs
  expect(engine.ingested).toEqual([0]);
  const events: Event[] = [];
  await scheduler.ask('while paused', undefined, (e) => events.push(e));
  expect(events.at(-1)).toEqual({ type: 'done' });
  expect(scheduler.stats()).toMatchObject({ paused: true, droppedPaused: 1, queueDepth: 1 });
  expect(released).toEqual([2]);
  scheduler.resume();
  await scheduler.idle();
  expect(engine.ingested).toEqual([0, 1]);
});

test('exclusive tasks run between engine calls; close releases waiting frames and refuses new work', async () => {
  const { engine, released, scheduler } = setup({ fps: Infinity });
  const hold = gate();
  engine.ingestGates = [hold];
  scheduler.offer({ id: 0 }, 0);
  scheduler.offer({ id: 1 }, 10);
  const order: string[] = [];
  const snap = scheduler.exclusive(async () => {
    order.push(`snapshot after ${JSON.stringify(engine.ingested)}`);
    return 42;
  });
  hold.open();
  expect(await snap).toBe(42);
  await scheduler.idle();
  expect(order).toEqual(['snapshot after [0]']);
  expect(engine.ingested).toEqual([0, 1]);

  // setClock (memory restored up to 5 s): older frames are refused as going backwards
  scheduler.setClock(5000);
  expect(() => scheduler.offer({ id: 2 }, 4000)).toThrow(InputError);
  expect(scheduler.offer({ id: 3 }, 6000).accepted).toBe(true);
  await scheduler.idle();

  const hold2 = gate();
  engine.ingestGates = [hold2];
  scheduler.offer({ id: 4 }, 7000);
  scheduler.offer({ id: 5 }, 8000);
  const pendingAsk = scheduler.ask('late', undefined, () => {});
  const closing = scheduler.close();
  await expect(pendingAsk).rejects.toThrow(/closed before the question ran/);
  hold2.open();
  await closing;
  expect(released).toContain(5);
  expect(scheduler.offer({ id: 6 }, 9000)).toEqual({ accepted: false, reason: 'closed' });
  await expect(scheduler.ask('after', undefined, () => {})).rejects.toThrow(InputError);
  expect(engine.ingested).toEqual([0, 1, 3, 4]);
});
