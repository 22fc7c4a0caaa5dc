/**
 * Every command's `--help` shows a sample of its `--json` output (static `jsonExample`, drawn
 * by help.ts). Here each sample is parsed with the contract's schema (or, for output the CLI
 * makes itself, with the shape its command returns), and must come through unchanged: help
 * never shows a field the API does not have.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiKey, ApiKeyList, ApiKeyRotation, ApiKeyWithSecret, Asset, Job, JobEvent, JobList, ModelList, PromptCheck, Team, TeamEventId, TeamEventType, TeamList, UsageReport, WebhookDelivery, WebhookDeliveryList } from '@clickvid/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const COMMANDS = fileURLToPath(new URL('./commands/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));

const output = z.object({ path: z.string(), bytes: z.number().int(), asset_id: z.string() });
const masked = z.string().nullable();
const source = z.enum(['flag', 'env', 'dev.json', 'profile', 'default']);
const row = z.object({
  index: z.number().int(), name: z.string(), file: z.string(), idempotency_key: z.string(),
  status: z.enum(['pending', 'submitted', 'downloaded', 'failed', 'skipped']), job_id: z.string().nullable(), bytes: z.number().nullable(),
  gpu_seconds: z.number().nullable(), credits: z.number().nullable(), seconds: z.number().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

/** The schema of each command's `--json` output, by command id. */
const SCHEMAS = new Map<string, z.ZodType>([
  ['generate', Job.extend({ output: output.optional() })],
  ['promote', Job.extend({ output: output.optional() })],
  ['jobs:wait', Job.extend({ output: output.optional() })],
  ['jobs:get', Job],
  ['jobs:cancel', Job],
  ['jobs:list', JobList],
  ['jobs:watch', z.array(JobEvent)],
  ['listen', z.array(z.object({ id: TeamEventId, type: TeamEventType, job_id: z.string(), status: z.number().int(), attempts: z.number().int() }))],
  ['assets:get', Asset],
  ['assets:download', output],
  ['models', ModelList],
  ['usage', UsageReport],
  ['batch', z.object({
    object: z.literal('batch'), manifest: z.object({ path: z.string(), sha256: z.string() }), out_dir: z.string(), state_file: z.string(),
    total: z.number().int(), ok: z.number().int(), failed: z.number().int(), skipped: z.number().int(), gpu_seconds: z.number(), credits: z.number(),
    estimate_gpu_seconds: z.number().nullable(), budget_gpu_seconds: z.number().nullable(), rows: z.array(row),
    error: z.object({ code: z.enum(['batch_failed', 'budget_exceeded']), message: z.string() }).optional(),
  })],
  ['config:list', z.object({
    profile: z.string(), url: z.string(), url_source: source, api_key: masked, api_key_source: source.nullable(), refused: z.array(z.string()),
    files: z.object({ dev_json: z.string().nullable(), profile: z.string() }),
    profiles: z.array(z.object({ name: z.string(), url: z.string().nullable(), api_key: masked })),
  })],
  ['config:get', z.object({ profile: z.string(), key: z.enum(['url', 'api-key']), value: z.string().nullable() })],
  ['config:set', z.object({ profile: z.string(), url: z.string().nullable(), api_key: masked, path: z.string() })],
  ['admin:teams:create', Team],
  ['admin:teams:get', Team],
  ['admin:teams:update', Team],
  ['admin:teams:list', TeamList],
  ['admin:keys:create', ApiKeyWithSecret],
  ['admin:keys:list', ApiKeyList],
  ['admin:keys:revoke', ApiKey],
  ['admin:keys:rotate', ApiKeyRotation],
  ['prompts:check', PromptCheck],
  ['webhooks:list', WebhookDeliveryList],
  ['webhooks:replay', WebhookDelivery],
  ['login', z.object({ profile: z.string(), url: z.string(), team: z.string(), api_key: masked, path: z.string() })],
]);

/** Every command module under src/commands, by oclif id (`jobs/get.ts` → `jobs:get`). */
async function commands(): Promise<Map<string, { jsonExample?: unknown; enableJsonFlag?: boolean }>> {
  const files = readdirSync(COMMANDS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const out = new Map<string, { jsonExample?: unknown; enableJsonFlag?: boolean }>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(`${COMMANDS}${file}`).href)) as { default: { jsonExample?: unknown; enableJsonFlag?: boolean } };
    out.set(file.replace(/\.ts$/, '').split('/').join(':'), mod.default);
  }
  return out;
}

describe('--json examples in --help', () => {
  it('every command with --json has an example that its schema parses unchanged', async () => {
    const all = await commands();
    expect(all.size).toBeGreaterThanOrEqual(SCHEMAS.size);
    for (const [id, cmd] of all) {
      if (!cmd.enableJsonFlag) continue;
      const schema = SCHEMAS.get(id);
      expect(schema, `no schema for ${id}: add it here`).toBeDefined();
      expect(cmd.jsonExample, `${id} has no jsonExample`).toBeDefined();
      const parsed = schema!.safeParse(cmd.jsonExample);
      expect(parsed.success, `${id}: ${parsed.error?.message}`).toBe(true);
      expect(parsed.data, `${id}: the example has fields the schema does not`).toEqual(cmd.jsonExample);
    }
  });

  // NODE_ENV=production as installed: under vitest's NODE_ENV=test oclif would map dist/help.js back to src/help.ts.
  it('the installed help shows them (from the manifest)', () => {
    const r = spawnSync(process.execPath, [BIN, 'jobs', 'get', '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/JSON OUTPUT \(--json\)\n\s+\{\n\s+"id": "job_/);
    const watch = spawnSync(process.execPath, [BIN, 'jobs', 'watch', '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'production' } });
    expect(watch.stdout).toMatch(/JSON OUTPUT \(--json\)\n\s+\{"type":"status"/);
  });
});
