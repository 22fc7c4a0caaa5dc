import { Command, Flags, type Interfaces } from '@oclif/core';
import type { Ora } from 'ora';
import type { Clickvid, Job } from '@clickvid/sdk';
import { resolveConfig } from './internal/config.js';
import { toFailure, type Failure } from './internal/errors.js';
import { describeProgress, formatBytes, jobLines } from './internal/format.js';
import { paint, setColor, shouldColor } from './internal/style.js';

/** A job, plus where its video was saved when the command downloaded it. */
export type JobResult = Job & { output?: { path: string; bytes: number; asset_id: string } };

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * What every command shares: config resolution, the SDK client, `--json`, colour, spinners,
 * and errors printed as `Error [code]: message`. The SDK and ora are imported when first
 * used, not when a command module loads, so commands that never call the API stay light.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true;

  static baseFlags = {
    'api-key': Flags.string({ description: 'API key [env: CLICKVID_API_KEY]', helpGroup: 'GLOBAL' }),
    'api-url': Flags.string({ description: 'API base URL [env: CLICKVID_API_URL]', helpGroup: 'GLOBAL' }),
    color: Flags.boolean({ description: 'Colour the output (default: when stdout is a terminal and NO_COLOR is unset).', allowNo: true, helpGroup: 'GLOBAL' }),
    profile: Flags.string({ description: 'Stored profile to use (see `clickvid login`) [env: CLICKVID_PROFILE]', helpGroup: 'GLOBAL' }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: BaseArgs<T>;
  private cachedClient: Clickvid | undefined;

  override async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as BaseArgs<T>;
    setColor(!this.jsonEnabled() && shouldColor(this.flags.color, process.env, Boolean(process.stdout.isTTY)));
  }

  /** The SDK client, configured from flags, env, .clickvid/dev.json or the profile. */
  protected async client(): Promise<Clickvid> {
    if (!this.cachedClient) {
      const cfg = await resolveConfig({
        flags: { apiUrl: this.flags['api-url'], apiKey: this.flags['api-key'], profile: this.flags.profile },
        env: process.env,
        cwd: process.cwd(),
      });
      this.debug('config: url %s from %s, key from %s', cfg.url, cfg.sources.url, cfg.sources.apiKey);
      const { Clickvid } = await import('@clickvid/sdk');
      this.cachedClient = new Clickvid({ apiKey: cfg.apiKey, baseUrl: cfg.url });
    }
    return this.cachedClient;
  }

  /** True when output is for a person: a TTY and not --json. */
  protected get interactive(): boolean {
    return Boolean(process.stdout.isTTY) && !this.jsonEnabled();
  }

  /**
   * A spinner on stderr, or undefined when not {@link interactive}. A terminal
   * that reports no width (some CI pseudo-terminals) gets none either: ora
   * would count every line as infinitely wrapped and never stop clearing.
   */
  protected async spinner(text: string): Promise<Ora | undefined> {
    if (!this.interactive || !process.stderr.isTTY || !(process.stderr.columns > 0)) return undefined;
    const { default: ora } = await import('ora');
    return ora({ text, stream: process.stderr }).start();
  }

  /** Non-fatal notes (job warnings) in yellow on stderr; silent with --json. */
  protected note(message: string): void {
    this.logToStderr(paint.yellow(`warning: ${message}`));
  }

  /**
   * Print the job's warnings; with `wait` (or `out`) follow it to the end with a
   * spinner showing status, queue position and progress; with `out` download its video.
   */
  protected async follow(job: Job, opts: { wait: boolean; out?: string | undefined; timeoutS: number }): Promise<JobResult> {
    for (const warning of job.warnings) this.note(warning);
    if (!opts.wait && !opts.out) return job;
    const client = await this.client();
    const spinner = await this.spinner(describeProgress(job));
    try {
      job = await client.jobs.wait(job.id, {
        timeoutMs: opts.timeoutS * 1000,
        onProgress: (j) => {
          if (spinner) spinner.text = describeProgress(j);
        },
      });
      spinner?.succeed(describeProgress(job));
    } catch (err) {
      spinner?.fail();
      throw err;
    }
    if (!opts.out || !job.assets) return job;
    const download = await this.spinner(`downloading ${job.assets.video}`);
    try {
      const saved = await client.assets.download(job.assets.video, opts.out);
      download?.succeed(`saved ${saved.path} (${formatBytes(saved.bytes)})`);
      return { ...job, output: { path: saved.path, bytes: saved.bytes, asset_id: saved.asset.id } };
    } catch (err) {
      download?.fail();
      throw err;
    }
  }

  /** The human view of a job (nothing with --json: the command returns the job instead). */
  protected printJob(job: JobResult): void {
    for (const line of jobLines(job)) this.log(line);
    if (job.output) this.log(`  saved    ${job.output.path} (${formatBytes(job.output.bytes)})`);
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const failure = await toFailure(err);
    if (!failure) return super.catch(err);
    process.exitCode = 1;
    if (this.jsonEnabled()) {
      this.logJson(errorJson(failure));
      return undefined;
    }
    const requestId = failure.request_id ? paint.dim(` (request ${failure.request_id})`) : '';
    const jobId = failure.job_id ? paint.dim(` (job ${failure.job_id})`) : '';
    this.logToStderr(`${paint.red(`Error [${failure.code}]:`)} ${failure.message}${jobId}${requestId}`);
    // The server's hints (e.g. the words the model knows) are what the user needs to fix the request.
    const details = failure.details;
    if (typeof details?.hint === 'string') this.logToStderr(`  ${details.hint}`);
    if (Array.isArray(details?.vocabulary)) this.logToStderr(`  Known words: ${details.vocabulary.join(', ')}`);
    return undefined;
  }

  protected override toErrorJson(err: unknown): unknown {
    const e = err as { code?: unknown; message?: unknown };
    return { error: { code: typeof e?.code === 'string' ? e.code : 'cli_error', message: String(e?.message ?? err) } };
  }
}

/** `{"error": {code, message, ...}}` for --json, mirroring the API's error body. */
export function errorJson(failure: Failure): { error: Failure } {
  return { error: failure };
}
