import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ClickvidError, DEFAULT_BASE_URL } from '@clickvid/sdk';

/** Where a setting came from, in the order they are tried. */
export type ConfigSource = 'flag' | 'env' | 'dev.json' | 'profile' | 'default';

export interface ResolvedConfig {
  url: string;
  apiKey: string;
  sources: { url: ConfigSource; apiKey: ConfigSource };
  /** The files that were read, for error messages. */
  files: { devJson: string | undefined; profile: string };
}

export interface ConfigInputs {
  flags: { apiUrl?: string | undefined; apiKey?: string | undefined };
  env: Record<string, string | undefined>;
  cwd: string;
  home?: string | undefined;
}

interface FileConfig {
  url?: string;
  apiKey?: string;
}

/**
 * Resolve the API URL and key, each on its own, from (first wins):
 * `--api-url`/`--api-key`, then CLICKVID_API_URL/CLICKVID_API_KEY, then
 * `.clickvid/dev.json` in the cwd or its nearest parent that has one (written
 * by `npm start`), then the profile `$XDG_CONFIG_HOME/clickvid/config.json`
 * (default `~/.config/clickvid/config.json`).
 */
export async function resolveConfig(inputs: ConfigInputs): Promise<ResolvedConfig> {
  const devPath = await findUp(inputs.cwd, join('.clickvid', 'dev.json'));
  const profilePath = join(inputs.env.XDG_CONFIG_HOME || join(inputs.home ?? homedir(), '.config'), 'clickvid', 'config.json');
  const dev = devPath ? await readJson(devPath) : {};
  const profile = await readJson(profilePath);

  const pick = (field: 'url' | 'apiKey', flag: string | undefined, env: string | undefined) => {
    const candidates: [ConfigSource, string | undefined][] = [
      ['flag', flag], ['env', env], ['dev.json', dev[field]], ['profile', profile[field]],
    ];
    const hit = candidates.find(([, v]) => typeof v === 'string' && v !== '');
    return hit ? { value: hit[1]!, source: hit[0] } : undefined;
  };
  const url = pick('url', inputs.flags.apiUrl, inputs.env.CLICKVID_API_URL) ?? { value: DEFAULT_BASE_URL, source: 'default' as const };
  const apiKey = pick('apiKey', inputs.flags.apiKey, inputs.env.CLICKVID_API_KEY);
  if (!apiKey) {
    throw new ClickvidError(
      `No API key. Pass --api-key, set CLICKVID_API_KEY, run \`npm start\` in a clickvid checkout (writes .clickvid/dev.json), or put {"url","apiKey"} in ${profilePath}.`,
      { code: 'missing_api_key' },
    );
  }
  return {
    url: url.value,
    apiKey: apiKey.value,
    sources: { url: url.source, apiKey: apiKey.source },
    files: { devJson: devPath, profile: profilePath },
  };
}

/** The nearest `rel` at or above `start`, or undefined. */
export async function findUp(start: string, rel: string): Promise<string | undefined> {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, rel);
    if (await readFile(candidate).then(() => true, () => false)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

async function readJson(path: string): Promise<FileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' ? (value as FileConfig) : {};
  } catch (cause) {
    throw new ClickvidError(`${path} is not valid JSON.`, { code: 'invalid_config', cause });
  }
}
