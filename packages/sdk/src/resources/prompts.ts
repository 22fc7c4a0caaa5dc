import { PromptCheck, type PromptCheckRequest } from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Prompts: how the model reads one, before any job is created. */
export class Prompts {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /**
   * A dry run of a submit: the normalised prompt, known and unknown words, warnings, whether it
   * would be refused (and with which error), and the cost estimate for the given settings.
   * Creates no job and costs nothing.
   */
  check(params: PromptCheckRequest, options: RequestOptions = {}): APIPromise<PromptCheck> {
    return new APIPromise(this.transport.json(PromptCheck, { ...options, method: 'POST', path: '/v1/prompts/check', body: params }));
  }
}
