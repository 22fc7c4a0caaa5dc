import type { Config } from './config.js';

/**
 * A team's daily quota in GPU-seconds, or undefined for none: the one place that decides,
 * so per-team settings (on the team record) can take over from the deployment-wide default.
 */
export function dailyQuotaSeconds(config: Pick<Config, 'dailyGpuSecondsQuota'>, _team: { id: string }): number | undefined {
  return config.dailyGpuSecondsQuota;
}
