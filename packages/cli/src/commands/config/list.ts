import { BaseCommand } from '../../base.js';
import { resolveSettings } from '../../internal/config.js';
import { JSON_EXAMPLES } from '../../internal/json-examples.js';
import { maskKey, readProfiles } from '../../internal/profiles.js';
import { paint } from '../../internal/style.js';

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override description = 'Show the URL and key the CLI would use here, where each comes from, and the stored profiles.';
  static jsonExample = JSON_EXAMPLES.configList;
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --profile staging --json'];

  async run(): Promise<typeof JSON_EXAMPLES.configList | Record<string, unknown>> {
    const s = await resolveSettings({
      flags: { apiUrl: this.flags['api-url'], apiKey: this.flags['api-key'], profile: this.flags.profile },
      env: process.env,
      cwd: process.cwd(),
    });
    const profiles = [...(await readProfiles(s.files.profile))].map(([name, p]) => ({ name, url: p.url ?? null, api_key: maskKey(p.apiKey) }));
    this.log(`url      ${s.url} ${paint.dim(`(${s.sources.url})`)}`);
    this.log(`api key  ${maskKey(s.apiKey) ?? paint.red('none')}${s.sources.apiKey ? ` ${paint.dim(`(${s.sources.apiKey})`)}` : ''}`);
    this.log(`profile  ${s.profile} ${paint.dim(`(${s.files.profile})`)}`);
    if (s.files.devJson) this.log(`dev.json ${s.files.devJson}`);
    for (const why of s.refused) this.log(paint.yellow(`note: ${why}`));
    for (const p of profiles) this.log(`  ${p.name === s.profile ? '*' : ' '} ${p.name}  ${p.url ?? '(default url)'}  ${p.api_key ?? '-'}`);
    return {
      profile: s.profile, url: s.url, url_source: s.sources.url, api_key: maskKey(s.apiKey), api_key_source: s.sources.apiKey ?? null,
      refused: s.refused, files: { dev_json: s.files.devJson ?? null, profile: s.files.profile }, profiles,
    };
  }
}
