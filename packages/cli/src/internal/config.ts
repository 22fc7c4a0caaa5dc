import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';
import { DEFAULT_PROFILE, profilePath, readJsonFile, readProfiles, type Profile } from './profiles.js';

/** Where a setting came from. */
export type ConfigSource = 'flag' | 'env' | 'dev.json' | 'profile' | 'default';

export interface Settings {
  url: string;
  /** Undefined when no key may be sent to `url`; {@link refused} then says why, if a key was set aside. */
  apiKey: string | undefined;
  sources: { url: ConfigSource; apiKey: ConfigSource | undefined };
  /** The profile in use (its name), whether or not the file has it. */
  profile: string;
  /** The stored keys that were not sent because they belong to another URL, as sentences. */
  refused: string[];
  /** The files that were read, for messages. */
  files: { devJson: string | undefined; profile: string };
}

export type ResolvedConfig = Settings & { apiKey: string; sources: { url: ConfigSource; apiKey: ConfigSource } };

export interface ConfigInputs {
  flags: { apiUrl?: string | undefined; apiKey?: string | undefined; profile?: string | undefined };
  env: Record<string, string | undefined>;
  cwd: string;
  home?: string | undefined;
}

interface Candidate {
  source: ConfigSource;
  url: string | undefined;
  apiKey: string | undefined;
  /** A stored key's URL (its file's, else the default); undefined for a key the user typed. */
  boundTo: string | undefined;
  where: string;
}

/**
 * Resolve the API URL and the key to send to it. Candidates, first wins: `--api-url`/`--api-key`,
 * a profile named by `--profile`, CLICKVID_API_URL/CLICKVID_API_KEY, a profile named by
 * CLICKVID_PROFILE, `.clickvid/dev.json` in the cwd or its nearest parent (written by
 * `npm start`), then the `default` profile of the config file.
 *
 * The URL is the first candidate's that names one. A key is only ever sent to the URL it came
 * with: a stored key (dev.json, a profile) to the URL stored beside it (the default URL when its
 * file names none); a typed key (flag, env) to a typed URL or the default, never to a URL read
 * from a file. So a dev.json in some parent directory that names only a URL cannot draw the
 * profile's key to its host.
 */
export async function resolveSettings(inputs: ConfigInputs): Promise<Settings> {
  const { env, flags } = inputs;
  const { DEFAULT_BASE_URL } = await import('@clickvid/sdk');
  const devPath = await findUp(inputs.cwd, join('.clickvid', 'dev.json'));
  const profileFile = profilePath(env, inputs.home);
  const profileName = flags.profile || env.CLICKVID_PROFILE || DEFAULT_PROFILE;
  const profiles = await readProfiles(profileFile);
  const profile: Profile | undefined = profiles.get(profileName);
  if (!profile && (flags.profile || env.CLICKVID_PROFILE)) {
    const known = [...profiles.keys()];
    throw new CliError(
      `No profile "${profileName}" in ${profileFile}${known.length ? ` (it has ${known.join(', ')})` : ''}. Create it with: clickvid login --profile ${profileName}`,
      { code: 'unknown_profile' },
    );
  }
  const dev = devPath ? ((await readJsonFile(devPath)) ?? {}) : {};
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

  const stored = (source: ConfigSource, p: { url?: unknown; apiKey?: unknown }, where: string): Candidate => ({
    source, url: str(p.url), apiKey: str(p.apiKey), boundTo: str(p.url) ?? DEFAULT_BASE_URL, where,
  });
  const profileCandidate = stored('profile', profile ?? {}, `profile "${profileName}" in ${profileFile}`);
  const candidates: Candidate[] = [
    { source: 'flag', url: str(flags.apiUrl), apiKey: str(flags.apiKey), boundTo: undefined, where: '--api-key' },
    ...(flags.profile ? [profileCandidate] : []),
    { source: 'env', url: str(env.CLICKVID_API_URL), apiKey: str(env.CLICKVID_API_KEY), boundTo: undefined, where: 'CLICKVID_API_KEY' },
    ...(!flags.profile && env.CLICKVID_PROFILE ? [profileCandidate] : []),
    stored('dev.json', dev, devPath ?? '.clickvid/dev.json'),
    ...(!flags.profile && !env.CLICKVID_PROFILE ? [profileCandidate] : []),
  ];

  const urlFrom = candidates.find((c) => c.url !== undefined);
  const url = urlFrom ? { value: urlFrom.url!, source: urlFrom.source } : { value: DEFAULT_BASE_URL, source: 'default' as const };
  const typedUrl = url.source === 'flag' || url.source === 'env' || url.source === 'default';
  const refused: string[] = [];
  const keyFrom = candidates.find((c) => {
    if (c.apiKey === undefined) return false;
    const ok = c.boundTo === undefined ? typedUrl : sameUrl(c.boundTo, url.value);
    if (!ok) {
      refused.push(
        c.boundTo === undefined
          ? `the key from ${c.where} is not sent to a URL read from a file (${url.value}, from ${url.source})`
          : `the key in ${c.where} belongs to ${c.boundTo}, not ${url.value} (from ${url.source})`,
      );
    }
    return ok;
  });
  return {
    url: url.value,
    apiKey: keyFrom?.apiKey,
    sources: { url: url.source, apiKey: keyFrom?.source },
    profile: profileName,
    refused,
    files: { devJson: devPath, profile: profileFile },
  };
}

/** {@link resolveSettings}, failing with `missing_api_key` when no key may be sent. */
export async function resolveConfig(inputs: ConfigInputs): Promise<ResolvedConfig> {
  const settings = await resolveSettings(inputs);
  if (settings.apiKey === undefined || settings.sources.apiKey === undefined) {
    const why = settings.refused.length ? ` Not sending a key: ${settings.refused.join('; ')}.` : '';
    throw new CliError(
      `No API key for ${settings.url}.${why} Run \`clickvid login --api-url ${settings.url}\` (stores the key with its URL in ${settings.files.profile}), ` +
        'pass --api-key, set CLICKVID_API_KEY, or run `npm start` in a clickvid checkout (writes .clickvid/dev.json).',
      { code: 'missing_api_key' },
    );
  }
  return settings as ResolvedConfig;
}

/** Same scheme, host, port and path (ignoring case of the host and trailing slashes). */
export function sameUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
    } catch {
      return u.replace(/\/+$/, '');
    }
  };
  return norm(a) === norm(b);
}

/** The nearest `rel` at or above `start`, or undefined. */
export async function findUp(start: string, rel: string): Promise<string | undefined> {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const candidate = join(dir, rel);
    if (await access(candidate).then(() => true, () => false)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
