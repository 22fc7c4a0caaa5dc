import { Command, Flags, type Interfaces } from '@oclif/core';
import chalk from 'chalk';
import ora, { type Ora } from 'ora';
import { APIError, Clickvid, ClickvidError, type Job } from '@clickvid/sdk';
import { resolveConfig, type ResolvedConfig } from './internal/config.js';
import { describeProgress, formatBytes, jobLines } from './internal/format.js';

/** A job, plus where its video was saved when the command downloaded it. */
export type JobResult = Job & { output?: { path: string; bytes: number; asset_id: string } };

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * What every command shares: config resolution, the SDK client, `--json`,
 * colour, spinners, and errors printed as `Error [code]: message`.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true;

  static baseFlags = {
    'api-key': Flags.string({ description: 'API key [env: CLICKVID_API_KEY]', helpGroup: 'GLOBAL' }),
    'api-url': Flags.string({ description: 'API base URL [env: CLICKVID_API_URL]', helpGroup: 'GLOBAL' }),
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
  }

  /** The SDK client, configured from flags, env, .clickvid/dev.json or the profile. */
  protected async client(): Promise<Clickvid> {
    if (!this.cachedClient) {
      const cfg: ResolvedConfig = await resolveConfig({
        flags: { apiUrl: this.flags['api-url'], apiKey: this.flags['api-key'] },
        env: process.env,
        cwd: process.cwd(),
      });
      this.debug('config: url %s from %s, key from %s', cfg.url, cfg.sources.url, cfg.sources.apiKey);
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
  protected spinner(text: string): Ora | undefined {
    if (!this.interactive || !process.stderr.isTTY || !(process.stderr.columns > 0)) return undefined;
    return ora({ text, stream: process.stderr }).start();
  }

  /** Non-fatal notes (job warnings) in yellow on stderr; silent with --json. */
  protected note(message: string): void {
    this.logToStderr(chalk.yellow(`warning: ${message}`));
  }

  /**
   * Print the job's warnings; with `wait` (or `out`) follow it to the end with a
   * spinner showing status, queue position and progress; with `out` download its video.
   */
  protected async follow(job: Job, opts: { wait: boolean; out?: string | undefined; timeoutS: number }): Promise<JobResult> {
    for (const warning of job.warnings) this.note(warning);
    if (!opts.wait && !opts.out) return job;
    const client = await this.client();
    const spinner = this.spinner(describeProgress(job));
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
    const download = this.spinner(`downloading ${job.assets.video}`);
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
    if (!(err instanceof ClickvidError)) return super.catch(err);
    process.exitCode = 1;
    if (this.jsonEnabled()) {
      this.logJson(errorJson(err));
    } else {
      const requestId = err instanceof APIError && err.requestId ? chalk.dim(` (request ${err.requestId})`) : '';
      const jobId = err.jobId ? chalk.dim(` (job ${err.jobId})`) : '';
      this.logToStderr(`${chalk.red(`Error [${err.code}]:`)} ${err instanceof APIError ? apiMessage(err) : err.message}${jobId}${requestId}`);
      // The server's hints (e.g. the words the model knows) are what the user needs to fix the request.
      const details = (err as { details?: Record<string, unknown> }).details;
      if (typeof details?.hint === 'string') this.logToStderr(`  ${details.hint}`);
      if (Array.isArray(details?.vocabulary)) this.logToStderr(`  Known words: ${details.vocabulary.join(', ')}`);
    }
    return undefined;
  }

  protected override toErrorJson(err: unknown): unknown {
    if (err instanceof ClickvidError) return errorJson(err);
    const e = err as { code?: unknown; message?: unknown };
    return { error: { code: typeof e?.code === 'string' ? e.code : 'cli_error', message: String(e?.message ?? err) } };
  }
}

/** `{"error": {code, message, ...}}` for --json, mirroring the API's error body. */
export function errorJson(err: ClickvidError): { error: Record<string, unknown> } {
  const body: Record<string, unknown> = { code: err.code, message: err instanceof APIError ? apiMessage(err) : err.message };
  if (err instanceof APIError) {
    body.status = err.status;
    if (err.type) body.type = err.type;
    if (err.param) body.param = err.param;
    if (err.requestId) body.request_id = err.requestId;
    if (err.details) body.details = err.details;
  }
  if (err.jobId) body.job_id = err.jobId;
  return { error: body };
}

/** The server's message without the SDK's `<status> <code>:` prefix (the CLI prints the code itself). */
function apiMessage(err: APIError): string {
  return err.message.replace(`${err.status} ${err.code}: `, '');
}
