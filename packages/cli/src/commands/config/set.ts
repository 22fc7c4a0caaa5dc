import { Args } from '@oclif/core';
import { BaseCommand } from '../../base.js';
import { sameUrl } from '../../internal/config.js';
import { CliError } from '../../internal/errors.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';
import { DEFAULT_PROFILE, maskKey, profilePath, readProfiles, writeProfile } from '../../internal/profiles.js';

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override description = `Store a setting in the profile (--profile, default "default"), in a file only you can read (0600).

A profile's key belongs to its URL: changing the URL of a profile that holds a key for another one is refused (log in to the new URL instead), and a key set here is stored for the profile's URL.`;
  static jsonExample = JSON_EXAMPLES.configSet;
  static override examples = ['<%= config.bin %> config set url https://api.clickvid.example --profile prod', '<%= config.bin %> config set api-key cv_live_… --profile prod'];
  static override args = {
    key: Args.string({ description: 'Setting.', options: ['url', 'api-key'], required: true }),
    value: Args.string({ description: 'New value.', required: true }),
  };

  async run(): Promise<{ profile: string; url: string | null; api_key: string | null; path: string }> {
    const profile = this.flags.profile || process.env.CLICKVID_PROFILE || DEFAULT_PROFILE;
    const path = profilePath(process.env);
    const stored = (await readProfiles(path)).get(profile) ?? {};
    const next = { ...stored };
    if (this.args.key === 'url') {
      const url = this.args.value;
      if (!/^https?:\/\/[^/]/i.test(url)) throw new CliError(`Not an http(s) URL: ${url}`, { code: 'invalid_config' });
      const current = stored.url ?? (await import('@clickvid/sdk')).DEFAULT_BASE_URL;
      if (stored.apiKey && !sameUrl(current, url)) {
        throw new CliError(
          `Profile "${profile}" holds a key for ${current}; it is not moved to ${url}. Run: clickvid login --api-url ${url} --profile ${profile}`,
          { code: 'key_bound_to_url' },
        );
      }
      next.url = url;
    } else {
      next.apiKey = this.args.value;
    }
    await writeProfile(path, profile, next);
    this.log(`profile ${profile}: url ${next.url ?? '(default)'}, key ${maskKey(next.apiKey) ?? '-'} → ${path}`);
    return { profile, url: next.url ?? null, api_key: maskKey(next.apiKey), path };
  }
}
