/**
 * A job's progress during inference, written to Redis after every unit but never more than one
 * write at a time: a value reported while a write is in flight waits, and only the latest
 * waiting one is written next. A final reports after each of its ~20 units; coalesced, a slow
 * Redis costs fewer writes instead of a growing queue. The write doubles as the cancellation
 * check: when it answers false (the job left `running`), `onStopped` runs once.
 */
export class CoalescedProgress {
  readonly #write: (progress: number) => Promise<boolean>;
  readonly #onStopped: () => void;
  #inFlight: Promise<void> | null = null;
  #next: number | null = null;
  #done = false;

  constructor(write: (progress: number) => Promise<boolean>, onStopped: () => void) {
    this.#write = write;
    this.#onStopped = onStopped;
  }

  report(progress: number): void {
    if (this.#done) return;
    if (this.#inFlight) this.#next = progress;
    else this.#send(progress);
  }

  /** Drops what waits and resolves once the write in flight settled: a later write can then not be overtaken by this one. */
  async settle(): Promise<void> {
    this.#done = true;
    this.#next = null;
    await this.#inFlight;
  }

  #send(progress: number): void {
    this.#inFlight = this.#write(progress).then(
      (running) => {
        if (!running && !this.#done) {
          this.#done = true;
          this.#onStopped();
        }
      },
      // A lost progress write fails nothing: the job's next step reaches Redis too and reports a real outage.
      () => undefined,
    ).finally(() => {
      this.#inFlight = null;
      const n = this.#next;
      this.#next = null;
      if (n !== null && !this.#done) this.#send(n);
    });
  }
}
