import { ERROR_CATALOGUE } from '@clickvid/contracts';
import { ModelError } from '@clickvid/core';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { classifyError, toBullError, WorkerError } from './errors.js';

describe('classifyError', () => {
  it('keeps a WorkerError as it is', () => {
    const e = new WorkerError('encode_failed', 'x', { retryable: true });
    expect(classifyError(e)).toBe(e);
  });

  it('bad input and a missing model are unrecoverable, with their code', () => {
    expect(classifyError(new ModelError('prompt_not_understood', 'no words'))).toMatchObject({ code: 'prompt_not_understood', retryable: false });
    expect(classifyError(new ModelError('model_unavailable', 'gone'))).toMatchObject({ code: 'model_unavailable', retryable: false });
    expect(classifyError(new ModelError('unsupported_parameter', 'fps'))).toMatchObject({ code: 'unsupported_parameter', retryable: false });
  });

  it('a catalogue code is retried as its catalogue row says', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      if (code === 'internal_error') continue;
      expect(classifyError(Object.assign(new Error('x'), { code }))).toMatchObject({ code, retryable: entry.retryable });
      expect(new WorkerError(code as keyof typeof ERROR_CATALOGUE, 'x').retryable).toBe(entry.retryable);
    }
  });

  it('timeouts and transient I/O faults are retried', () => {
    expect(classifyError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toMatchObject({ code: 'job_timeout', retryable: true });
    expect(classifyError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toMatchObject({ code: 'internal_error', retryable: true });
    expect(classifyError(new Error('something odd'))).toMatchObject({ code: 'internal_error', retryable: true });
    expect(classifyError('a string')).toMatchObject({ code: 'internal_error', retryable: true });
  });

  it('toBullError makes unrecoverable ones an UnrecoverableError (BullMQ then skips the retries)', () => {
    const hard = toBullError(new WorkerError('model_unavailable', 'sha', { retryable: false }));
    expect(hard).toBeInstanceOf(UnrecoverableError);
    expect(hard.message).toBe('model_unavailable: sha');
    const soft = toBullError(new WorkerError('storage_failed', 'put', { retryable: true }));
    expect(soft).not.toBeInstanceOf(UnrecoverableError);
    expect(soft.message).toBe('storage_failed: put');
  });
});
