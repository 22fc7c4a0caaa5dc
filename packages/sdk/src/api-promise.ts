import type { ApiResponse } from './internal/transport.js';

/**
 * What every single-request SDK call returns: a promise of the parsed body that can also give
 * the response it came in. `await client.jobs.retrieve(id)` is the job;
 * `await client.jobs.retrieve(id).withResponse()` is `{ data, status, requestId, headers }`.
 * (The shape of openai-node's `APIPromise`.)
 */
export class APIPromise<T> extends Promise<T> {
  readonly #response: Promise<ApiResponse<T>>;

  /** @internal Made by the SDK's resources. */
  constructor(response: Promise<ApiResponse<T>>) {
    // The base promise is never observed: then() below answers from `response`.
    super((resolve) => resolve(undefined as T));
    this.#response = response;
  }

  /** @internal Promises derived with then/catch/finally are plain promises. */
  static override get [Symbol.species]() {
    return Promise;
  }

  /** The parsed body together with the HTTP status, the request id and the response headers. */
  withResponse(): Promise<ApiResponse<T>> {
    return this.#response;
  }

  /** @internal */
  override then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#response.then((r) => r.data).then(onfulfilled, onrejected);
  }

  /** @internal */
  override catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.then(undefined, onrejected);
  }

  /** @internal */
  override finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }
}
