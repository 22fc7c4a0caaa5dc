import { ErrorBody, ModelList, UsageQuery, UsageReport } from '@clickvid/contracts';
import { dailyQuotaSeconds, round, utcDay } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';

export const accountRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.get('/v1/usage', {
    schema: { summary: 'GPU-seconds and credits per day, quality and campaign.', tags: ['account'], querystring: UsageQuery, response: { 200: UsageReport, 400: ErrorBody, 401: ErrorBody } },
  }, async (req) => {
    const to = req.query.to ?? utcDay();
    const from = req.query.from ?? utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000));
    if (from > to) throw new ApiError('validation_failed', '`from` is after `to`.', { param: 'from' });
    const data = await d.ledger.report(req.team.id, from, to);
    const totals = data.reduce((t, r) => ({ jobs: t.jobs + r.jobs, gpu_seconds: t.gpu_seconds + r.gpu_seconds, credits: t.credits + r.credits }), { jobs: 0, gpu_seconds: 0, credits: 0 });
    return {
      object: 'usage' as const,
      team: req.team.id,
      from,
      to,
      data,
      totals: { jobs: totals.jobs, gpu_seconds: round(totals.gpu_seconds), credits: round(totals.credits) },
      quota: { gpu_seconds_per_day: dailyQuotaSeconds(req.team) ?? null, used_today: round(await d.ledger.usedToday(req.team.id)) },
    };
  });

  app.get('/v1/models', {
    schema: { summary: 'Models, variants, tiers, and their measured cost and latency.', tags: ['account'], response: { 200: ModelList, 401: ErrorBody } },
  }, async () => ({
    object: 'list' as const,
    // One entry per version served: the stable one first, then its canary.
    data: d.models.served().map(({ registry: r, channel, share }) => {
      const m = r.manifest;
      return {
        id: m.id,
        object: 'model' as const,
        version: m.version,
        channel,
        traffic_share: round(share),
        description: m.description,
        variants: Object.entries(m.variants).map(([name, v]) => ({ name, precision: v.precision, sha256: v.sha256, bytes: v.bytes, width: v.width, height: v.height })),
        tiers: (['draft', 'standard', 'final'] as const).map((quality) => {
          const t = m.tiers[quality];
          const v = m.variants[t.variant]!;
          return {
            quality, variant: t.variant, precision: v.precision, width: v.width, height: v.height, fps: t.fps,
            duration_s: t.duration_s, max_duration_s: t.max_duration_s, max_batch: t.max_batch, ms_per_video: t.ms_per_video,
            credits_per_gpu_second: d.config.creditsPerGpuSecond,
            estimate_gpu_seconds: round(d.estimator.seconds(r, quality, r.resolveParams(quality, {}, () => 0))),
          };
        }),
        vocabulary: r.contentWords(),
        aspect_ratios: r.aspectRatios(),
      };
    }),
  }));
};
