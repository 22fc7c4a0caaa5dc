import { PromptCheck, type PromptCheckRequest } from '@clickvid/contracts';
import type { RequestOptions, Transport } from '../internal/transport.js';

/** Prompts: how the model reads one, before any job is created. */
export class Prompts {
  constructor(private readonly transport: Transport) {}

  /**
   * A dry run of a submit: the normalised prompt, unknown words, warnings, whether it would be
   * refused (and with which error), and the cost estimate for the given settings. Creates no job.
   */
  async check(params: PromptCheckRequest, options: RequestOptions = {}): Promise<PromptCheck> {
    return (await this.transport.json(PromptCheck, { ...options, method: 'POST', path: '/v1/prompts/check', body: params })).data;
  }
}
