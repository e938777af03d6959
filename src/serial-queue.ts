/**
 * Runs tasks one at a time in the order they were queued: each starts once every task before it has
 * settled. A task's failure is its caller's (its promise rejects); the queue goes on with the next.
 * The model's generate(), the engine's calls and other single-owner resources (GPU workspaces, a
 * cache's rows) serialize through it instead of each keeping its own promise chain.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `task` after every task queued before it; resolves or rejects with it. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Settles (never rejects) once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
