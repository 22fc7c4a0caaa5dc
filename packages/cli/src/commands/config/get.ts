import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../base.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';
import { DEFAULT_PROFILE, maskKey, profilePath, readProfiles } from '../../internal/profiles.js';

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override description = 'Print a stored setting of the profile (--profile, default "default").';
  static jsonExample = JSON_EXAMPLES.configGet;
  static override examples = ['<%= config.bin %> config get url', '<%= config.bin %> config get api-key --reveal --profile staging'];
  static override args = { key: Args.string({ description: 'Setting.', options: ['url', 'api-key'], required: true }) };
  static override flags = { reveal: Flags.boolean({ description: 'Print the whole API key, not a masked one.' }) };

  async run(): Promise<{ profile: string; key: string; value: string | null }> {
    const profile = this.flags.profile || process.env.CLICKVID_PROFILE || DEFAULT_PROFILE;
    const stored = (await readProfiles(profilePath(process.env))).get(profile) ?? {};
    const raw = this.args.key === 'url' ? stored.url : stored.apiKey;
    const value = this.args.key === 'api-key' && !this.flags.reveal ? maskKey(raw) : (raw ?? null);
    this.log(value ?? '');
    return { profile, key: this.args.key, value };
  }
}
