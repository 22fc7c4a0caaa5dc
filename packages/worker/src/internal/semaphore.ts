/** Counts permits; acquire() waits (FIFO) while none is free and resolves with a release function. */
export class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(permits: number) {
    this.#free = permits;
  }

  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // Hand the permit straight to the next waiter, so a newcomer cannot overtake it.
      if (next) next();
      else this.#free++;
    };
  }
}
