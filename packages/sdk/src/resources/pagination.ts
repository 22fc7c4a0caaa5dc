import type { ApiResponse } from '../internal/transport.js';

/** What a list endpoint answers: one page of items and the cursor of the next. */
export interface ListBody<Item> {
  /** Always `list`. */
  object: 'list';
  /** The items of the page. */
  data: Item[];
  /** The cursor of the next page; null on the last. */
  next_cursor: string | null;
}

/**
 * One page of a cursor-paginated list. Iterating it with `for await` walks
 * every item of this page and of all the pages after it.
 */
export class Page<Item> implements AsyncIterable<Item> {
  /** Always `list`. */
  readonly object = 'list';
  /** The items of this page. */
  readonly data: Item[];
  /** The cursor of the next page; null on the last. */
  readonly next_cursor: string | null;

  /** @internal Made by `list()`. */
  constructor(
    body: ListBody<Item>,
    private readonly fetchPage: (cursor: string) => Promise<ListBody<Item>>,
  ) {
    this.data = body.data;
    this.next_cursor = body.next_cursor;
  }

  /** Whether a page follows this one. */
  hasNextPage(): boolean {
    return this.next_cursor !== null && this.next_cursor !== '';
  }

  /** The page after this one; throws when there is none (check {@link hasNextPage}). */
  async getNextPage(): Promise<Page<Item>> {
    if (!this.hasNextPage()) throw new Error('No next page: next_cursor is null.');
    return new Page(await this.fetchPage(this.next_cursor!), this.fetchPage);
  }

  /** This page and every page after it, fetched one at a time as you iterate. */
  async *iterPages(): AsyncGenerator<Page<Item>> {
    let page: Page<Item> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      yield page;
    }
  }

  /** Every item of this page and of the pages after it. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/**
 * What `list()` returns: `await` it for the first {@link Page}, or
 * `for await` over it to auto-paginate through every item.
 */
export class PagePromise<Item> implements PromiseLike<Page<Item>>, AsyncIterable<Item> {
  /** @internal Made by `list()`. */
  constructor(private readonly response: Promise<ApiResponse<Page<Item>>>) {
    // Iterating without awaiting must not leave an unhandled rejection behind.
    response.catch(() => {});
  }

  /** The first page together with the HTTP status, the request id and the response headers. */
  withResponse(): Promise<ApiResponse<Page<Item>>> {
    return this.response;
  }

  then<R1 = Page<Item>, R2 = never>(
    onfulfilled?: ((value: Page<Item>) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.response.then((r) => r.data).then(onfulfilled, onrejected);
  }

  /** Every item of every page, fetching the next page as you reach it. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Item> {
    yield* (await this.response).data;
  }
}
