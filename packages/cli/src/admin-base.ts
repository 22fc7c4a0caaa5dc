import { type Command, Flags } from '@oclif/core';
import { Clickvid, ClickvidError, DEFAULT_BASE_URL } from '@clickvid/sdk';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BaseCommand } from './base.js';
import { findUp, sameUrl } from './internal/config.js';

/**
 * Base of `clickvid admin …`: the same output and errors as every command, but the
 * client carries an admin key (`--admin-key`, CLICKVID_ADMIN_KEY, or the `adminKey`
 * that `npm start` writes to .clickvid/dev.json), never a team key.
 */
export abstract class AdminCommand<T extends typeof Command> extends BaseCommand<T> {
  static override baseFlags = {
    ...BaseCommand.baseFlags,
    'admin-key': Flags.string({ description: 'Admin key [env: CLICKVID_ADMIN_KEY]', helpGroup: 'GLOBAL' }),
    // A team key has no business here.
    'api-key': Flags.string({ hidden: true }),
  };

  private adminClient: Clickvid | undefined;

  protected override async client(): Promise<Clickvid> {
    if (this.adminClient) return this.adminClient;
    const flags = this.flags as { 'admin-key'?: string; 'api-url'?: string };
    const devPath = await findUp(process.cwd(), join('.clickvid', 'dev.json'));
    const dev = devPath ? ((JSON.parse(await readFile(devPath, 'utf8').catch(() => '{}')) ?? {}) as { url?: string; adminKey?: string }) : {};
    // As for team keys (internal/config.ts): a typed admin key goes to a typed URL or the default, never to a
    // URL read from a file; the key in dev.json goes only to the URL beside it.
    const typedKey = flags['admin-key'] || process.env.CLICKVID_ADMIN_KEY;
    const typedUrl = flags['api-url'] || process.env.CLICKVID_API_URL;
    let apiKey: string | undefined;
    let baseUrl: string;
    if (typedKey) {
      apiKey = typedKey;
      baseUrl = typedUrl || DEFAULT_BASE_URL;
    } else {
      apiKey = dev.adminKey;
      baseUrl = typedUrl || dev.url || DEFAULT_BASE_URL;
      if (apiKey && !sameUrl(dev.url || DEFAULT_BASE_URL, baseUrl)) {
        throw new ClickvidError(`The admin key in ${devPath} belongs to ${dev.url || DEFAULT_BASE_URL}, not ${baseUrl}; pass --admin-key.`, { code: 'missing_admin_key' });
      }
    }
    if (!apiKey) {
      throw new ClickvidError('No admin key. Pass --admin-key, set CLICKVID_ADMIN_KEY, or run `npm start` in a clickvid checkout (writes .clickvid/dev.json).', { code: 'missing_admin_key' });
    }
    this.adminClient = new Clickvid({ apiKey, baseUrl });
    return this.adminClient;
  }
}
