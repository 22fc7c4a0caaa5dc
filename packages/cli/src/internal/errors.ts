import type { ClickvidError } from '@clickvid/sdk';

/**
 * An error of the CLI itself (configuration, profiles), with a stable `code` like the SDK's
 * errors. Kept apart from the SDK's `ClickvidError` so that commands which never call the API
 * (`config`, `--help`) do not load the SDK to report one.
 */
export class CliError extends Error {
  readonly code: string;
  constructor(message: string, options: { code: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.code = options.code;
  }
}

/** What the CLI prints for an error it knows: the API's error body fields where there are some. */
export interface Failure {
  code: string;
  message: string;
  status?: number;
  type?: string;
  param?: string;
  request_id?: string;
  details?: Record<string, unknown>;
  job_id?: string;
}

/**
 * The {@link Failure} of a CliError or of any error the SDK threw; undefined for anything else
 * (oclif's own parse errors, bugs), which oclif reports as usual. The SDK is imported only here,
 * on the error path: an SDK error means it is loaded already.
 */
export async function toFailure(err: unknown): Promise<Failure | undefined> {
  if (err instanceof CliError) return { code: err.code, message: err.message };
  const sdk = await import('@clickvid/sdk');
  if (!(err instanceof sdk.ClickvidError)) return undefined;
  const failure: Failure = { code: err.code, message: err.message };
  if (err instanceof sdk.APIError) {
    // The server's message without the SDK's `<status> <code>:` prefix (the CLI prints the code itself).
    failure.message = err.message.replace(`${err.status} ${err.code}: `, '');
    failure.status = err.status;
    if (err.type) failure.type = err.type;
    if (err.param) failure.param = err.param;
    if (err.requestId) failure.request_id = err.requestId;
    if (err.details) failure.details = err.details;
  }
  if ((err as ClickvidError).jobId) failure.job_id = (err as ClickvidError).jobId;
  return failure;
}
