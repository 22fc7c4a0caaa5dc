import { Flags } from '@oclif/core';
import type { ApiKey, Quality, Team, TeamSettingsPatch } from '@clickvid/sdk';
import { table } from './format.js';
import { paint } from './style.js';

const limit = (description: string) => Flags.string({ description: `${description} A number, or "none" for unlimited.` });

/** The settings flags of `admin teams create|update`; only the flags given change a setting. */
export const settingsFlags = {
  'creates-per-min': Flags.integer({ description: 'POST requests per minute per key.', min: 1 }),
  'daily-gpu-seconds': limit('GPU-seconds per UTC day.'),
  'monthly-credits': limit('Credits per UTC month.'),
  qualities: Flags.string({ description: 'Allowed qualities, comma-separated (a free tier: draft,standard).' }),
  'reads-per-min': Flags.integer({ description: 'GET requests per minute per key.', min: 1 }),
};

export function settingsPatch(f: {
  'creates-per-min'?: number | undefined; 'daily-gpu-seconds'?: string | undefined; 'monthly-credits'?: string | undefined;
  qualities?: string | undefined; 'reads-per-min'?: number | undefined;
}): TeamSettingsPatch | undefined {
  const patch: TeamSettingsPatch = {};
  if (f['daily-gpu-seconds'] !== undefined) patch.daily_gpu_seconds = limitValue('daily-gpu-seconds', f['daily-gpu-seconds']);
  if (f['monthly-credits'] !== undefined) patch.monthly_credits = limitValue('monthly-credits', f['monthly-credits']);
  if (f['creates-per-min'] !== undefined || f['reads-per-min'] !== undefined) {
    patch.rate_limits = {
      ...(f['creates-per-min'] !== undefined ? { creates_per_min: f['creates-per-min'] } : {}),
      ...(f['reads-per-min'] !== undefined ? { reads_per_min: f['reads-per-min'] } : {}),
    };
  }
  if (f.qualities !== undefined) patch.allowed_qualities = f.qualities.split(',').map((q) => q.trim()).filter(Boolean) as Quality[];
  return Object.keys(patch).length ? patch : undefined;
}

function limitValue(flag: string, v: string): number | null {
  if (v === 'none') return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number or "none", not "${v}".`);
  return n;
}

const orNone = (v: number | null) => (v === null ? 'unlimited' : String(v));

export function teamLines(t: Team): string[] {
  const s = t.settings;
  return [
    `${paint.bold(t.id)}  ${t.name}`,
    `  qualities   ${s.allowed_qualities.join(', ')}`,
    `  daily       ${orNone(s.daily_gpu_seconds)} gpu-s`,
    `  monthly     ${orNone(s.monthly_credits)} credits`,
    `  rate        ${s.rate_limits.creates_per_min} creates/min, ${s.rate_limits.reads_per_min} reads/min per key`,
    `  webhooks    ${t.webhook_secret}`,
    `  created     ${t.created_at}`,
  ];
}

export function keyTable(keys: ApiKey[]): string {
  return table(
    ['ID', 'NAME', 'PREFIX', 'STATUS', 'CREATED', 'LAST USED', 'EXPIRES'],
    keys.map((k) => [k.id, k.name, `${k.prefix}…`, k.status, k.created_at.slice(0, 19), k.last_used_at?.slice(0, 19) ?? '-', k.expires_at?.slice(0, 19) ?? '-']),
  );
}
