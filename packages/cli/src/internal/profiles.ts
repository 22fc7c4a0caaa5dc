import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** A stored API key and the URL it belongs to: the key is only ever sent there. */
export interface Profile {
  url?: string | undefined;
  apiKey?: string | undefined;
}

export const DEFAULT_PROFILE = 'default';

/** `$XDG_CONFIG_HOME/clickvid/config.json`, default `~/.config/clickvid/config.json`. */
export function profilePath(env: Record<string, string | undefined>, home?: string): string {
  return join(env.XDG_CONFIG_HOME || join(home ?? homedir(), '.config'), 'clickvid', 'config.json');
}

/**
 * The profiles in the config file, by name. The file is `{"profiles": {"<name>": {"url",
 * "apiKey"}}}`; an older file holding one `{"url", "apiKey"}` reads as the `default` profile.
 */
export async function readProfiles(path: string): Promise<Map<string, Profile>> {
  const json = await readJsonFile(path);
  const profiles = new Map<string, Profile>();
  if (json === undefined) return profiles;
  const nested = json.profiles;
  if (nested !== undefined) {
    if (!isRecord(nested)) throw new CliError(`${path}: "profiles" must be an object.`, { code: 'invalid_config' });
    for (const [name, value] of Object.entries(nested)) profiles.set(name, toProfile(value, `${path}: profile "${name}"`));
  } else if ('url' in json || 'apiKey' in json) {
    profiles.set(DEFAULT_PROFILE, toProfile(json, path));
  }
  return profiles;
}

/**
 * Write one profile, keeping the others: to a temporary file created with mode 0600 and
 * renamed over the old one, so the file is never readable by others, even for a moment.
 */
export async function writeProfile(path: string, name: string, profile: Profile): Promise<void> {
  const profiles = await readProfiles(path);
  profiles.set(name, { ...(profile.url ? { url: profile.url } : {}), ...(profile.apiKey ? { apiKey: profile.apiKey } : {}) });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.tmp`;
  const body = { profiles: Object.fromEntries(profiles) };
  await writeFile(temp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600); // the umask cannot widen it, but an existing file's mode may have been wider
  await rename(temp, path);
}

/** A JSON object from `path`; undefined when there is no file. */
export async function readJsonFile(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new CliError(`Cannot read ${path}: ${(err as Error).message}`, { code: 'invalid_config', cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new CliError(`${path} is not valid JSON.`, { code: 'invalid_config', cause });
  }
  if (!isRecord(value)) throw new CliError(`${path} must hold a JSON object.`, { code: 'invalid_config' });
  return value;
}

function toProfile(value: unknown, where: string): Profile {
  if (!isRecord(value)) throw new CliError(`${where} must be an object.`, { code: 'invalid_config' });
  const out: Profile = {};
  for (const field of ['url', 'apiKey'] as const) {
    const v = value[field];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new CliError(`${where}: "${field}" must be a string.`, { code: 'invalid_config' });
    out[field] = v;
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key as it may be shown: its first 6 and last 4 characters. */
export function maskKey(key: string | undefined): string | null {
  if (!key) return null;
  return key.length <= 12 ? '****' : `${key.slice(0, 6)}…${key.slice(-4)}`;
}
