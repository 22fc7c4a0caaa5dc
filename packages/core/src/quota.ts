import type { Team } from './teams.js';

/**
 * A team's daily quota in GPU-seconds, or undefined for none: the one place that decides.
 * The team's effective settings already hold its override or the deployment's default
 * (`CLICKVID_DAILY_GPU_SECONDS`), see TeamStore.
 */
export function dailyQuotaSeconds(team: Pick<Team, 'settings'>): number | undefined {
  return team.settings.daily_gpu_seconds ?? undefined;
}
