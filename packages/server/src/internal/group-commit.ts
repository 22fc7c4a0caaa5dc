/**
 * Group commit: the items submitted during one turn of the event loop are handed to
 * `commit` together, so requests that arrive together share Redis round trips instead
 * of paying for their own. The flush runs on `setImmediate`, after every socket that was
 * readable in this turn has been parsed and its handler has run up to `submit`.
 *
 * `commit` answers with one outcome per item, in order: a value, or the Error of that
 * item alone. If `commit` itself throws, every item of the group gets that error.
 */
export class GroupCommit<T, R> {
  private group: Array<{ item: T; resolve(r: R): void; reject(e: unknown): void }> = [];

  /**
   * @param maxGroup - flush at once when this many items are waiting, to bound one commit's size.
   * @defaultValue 256
   */
  constructor(
    private readonly commit: (items: T[]) => Promise<Array<R | Error>>,
    private readonly maxGroup = 256,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.group.length === 0) setImmediate(() => this.flush());
      this.group.push({ item, resolve, reject });
      if (this.group.length >= this.maxGroup) this.flush();
    });
  }

  private flush(): void {
    const group = this.group;
    if (group.length === 0) return;
    this.group = [];
    this.commit(group.map((g) => g.item)).then(
      (outcomes) => group.forEach((g, i) => (outcomes[i] instanceof Error ? g.reject(outcomes[i]) : g.resolve(outcomes[i] as R))),
      (err: unknown) => group.forEach((g) => g.reject(err)),
    );
  }
}
