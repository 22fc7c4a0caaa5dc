/** A FIFO async mutex: callers run one at a time, in the order they asked. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    // The next caller waits for this one to settle, whether it resolved or threw.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
