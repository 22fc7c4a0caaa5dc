import { BaseCommand } from '../base.js';
import { CliError } from '../internal/errors.js';
import { JSON_EXAMPLES } from '../internal/json-examples.js';
import { DEFAULT_PROFILE, maskKey, profilePath, writeProfile } from '../internal/profiles.js';

export default class Login extends BaseCommand<typeof Login> {
  static override description = `Check an API key against a URL and store the two together in a profile (file mode 0600).

The key comes from --api-key, CLICKVID_API_KEY, standard input when it is not a terminal, or a prompt. It is sent only to the URL it is stored with.`;
  static jsonExample = JSON_EXAMPLES.login;
  static override examples = [
    '<%= config.bin %> login --api-url https://api.clickvid.example',
    'echo "$CLICKVID_KEY" | <%= config.bin %> login --api-url https://staging.clickvid.example --profile staging',
  ];

  async run(): Promise<{ profile: string; url: string; team: string; api_key: string | null; path: string }> {
    const { Clickvid, DEFAULT_BASE_URL } = await import('@clickvid/sdk');
    const profile = this.flags.profile || process.env.CLICKVID_PROFILE || DEFAULT_PROFILE;
    // Only a URL the user typed (or the default): never one found in a file, or the key would follow it there.
    const url = this.flags['api-url'] || process.env.CLICKVID_API_URL || DEFAULT_BASE_URL;
    const apiKey = this.flags['api-key'] || process.env.CLICKVID_API_KEY || (await readKey(`API key for ${url}: `));
    if (!apiKey) throw new CliError('No API key given.', { code: 'missing_api_key' });
    // Any authenticated call proves the pair; usage also names the team the key belongs to.
    const usage = await new Clickvid({ apiKey, baseUrl: url, maxRetries: 1 }).usage.retrieve();
    const path = profilePath(process.env);
    await writeProfile(path, profile, { url, apiKey });
    this.log(`Logged in to ${url} as ${usage.team}; stored as profile "${profile}" in ${path}`);
    return { profile, url, team: usage.team, api_key: maskKey(apiKey), path };
  }
}

/** A line from stdin: piped as is, or typed at a prompt that does not echo it. */
async function readKey(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.trim();
  }
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let key = '';
    const done = (value: string | Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (value instanceof Error) reject(value);
      else resolve(value.trim());
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(key);
        if (ch === '\u0003') return done(new CliError('Canceled.', { code: 'canceled' }));
        if (ch === '\u007f' || ch === '\b') key = key.slice(0, -1);
        else key += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
