import { ErrorBody, PromptCheck, PromptCheckRequest, type ErrorCode } from '@clickvid/contracts';
import { round } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Deps } from '../deps.js';
import { moderatePrompt } from '../internal/moderation.js';

/**
 * A dry run of a submit: how the model reads the prompt, what it would warn about or refuse, and what
 * the video would cost. Creates no job and spends no quota, so a studio or the CLI can show it
 * before submitting.
 */
export const promptRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  app.post('/v1/prompts/check', {
    schema: {
      summary: 'How the model reads a prompt: unknown words, warnings, whether it would be refused, and the cost estimate. No job is created.',
      tags: ['prompts'],
      body: PromptCheckRequest,
      response: { 200: PromptCheck, 400: ErrorBody, 401: ErrorBody, 422: ErrorBody, 429: ErrorBody },
    },
  }, async (req): Promise<PromptCheck> => {
    const { registry, config } = d;
    const { prompt, quality = 'draft', ...asked } = req.body;
    // Parameters first: a value the model cannot do is the caller's mistake (422), as on submit.
    const params = registry.resolveParams(quality, asked, () => 0);
    const t = registry.tokenizer.encode(prompt);
    const blocked = moderatePrompt(prompt);
    const refusal: { code: ErrorCode; message: string; param?: string | undefined; details?: Record<string, unknown> | undefined } | null = blocked
      ? { code: 'prompt_rejected', message: `The prompt was refused by moderation ("${blocked}").`, param: 'prompt' }
      : registry.refusal(prompt, t);
    const estimate = d.estimator.seconds(registry, quality, params);
    return {
      object: 'prompt_check',
      prompt,
      normalized: t.normalized,
      known: t.known,
      unknown: [...new Set(t.unknown)],
      warnings: registry.promptWarnings(t),
      refused: refusal !== null,
      error: refusal && { code: refusal.code, message: refusal.message, ...(refusal.param ? { param: refusal.param } : {}), ...(refusal.details ? { details: refusal.details } : {}) },
      quality,
      params: { ...params, seed: asked.seed ?? null },
      model: registry.modelRef(quality),
      estimate: { gpu_seconds: round(estimate), credits: round(estimate * config.creditsPerGpuSecond) },
    };
  });
};
