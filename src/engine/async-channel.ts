/**
 * A single-consumer async queue: a producer pushes values and finally closes (or fails); the
 * consumer iterates them with `for await`. Lets a callback-driven loop (token by token) feed an
 * AsyncGenerator without buffering the whole answer.
 */
export class AsyncChannel<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: (() => void) | null = null;
  private closed = false;
  private error: unknown = null;

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  close(error?: unknown): void {
    this.closed = true;
    if (error !== undefined) this.error = error;
    this.wake();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift() as T;
        continue;
      }
      if (this.closed) {
        if (this.error !== null) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}
