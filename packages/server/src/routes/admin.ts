import {
  ApiKey, ApiKeyCreateRequest, ApiKeyId, ApiKeyList, ApiKeyRotateRequest, ApiKeyRotation, ApiKeyWithSecret, ErrorBody,
  Team, TeamCreateRequest, TeamId, TeamList, TeamUpdateRequest,
} from '@clickvid/contracts';
import type { Team as StoredTeam } from '@clickvid/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { ApiError } from '../errors.js';

const TeamParams = z.object({ id: TeamId });
const KeyParams = z.object({ id: ApiKeyId });
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

/**
 * /v1/admin: teams, their settings and their keys. Registered outside the team-key
 * hook, behind the admin-key check (see app.ts). Key secrets appear only in the
 * answers to create and rotate.
 */
export const adminRoutes = (d: Deps): FastifyPluginAsyncZod => async (app) => {
  const tags = ['admin'];
  const team = async (id: string) => {
    const t = await d.teams.getTeam(id);
    if (!t) throw new ApiError('team_not_found', `No team ${id}.`, { param: 'id' });
    return t;
  };

  app.post('/v1/admin/teams', {
    schema: { summary: 'Create a team, with settings over the defaults.', tags, body: TeamCreateRequest, response: { 201: Team, ...errors } },
  }, async (req, reply) => reply.status(201).send(present(await d.teams.createTeam(req.body.id, { name: req.body.name, settings: req.body.settings }))));

  app.get('/v1/admin/teams', {
    schema: { summary: 'All teams, oldest first.', tags, response: { 200: TeamList, ...errors } },
  }, async () => ({ object: 'list' as const, data: (await d.teams.listTeams()).map(present) }));

  app.get('/v1/admin/teams/:id', {
    schema: { summary: 'A team and its effective settings.', tags, params: TeamParams, response: { 200: Team, ...errors } },
  }, async (req) => present(await team(req.params.id)));

  app.post('/v1/admin/teams/:id', {
    schema: { summary: 'Rename a team or change its settings (only the fields given); every server sees it within seconds.', tags, params: TeamParams, body: TeamUpdateRequest, response: { 200: Team, ...errors } },
  }, async (req) => present(await d.teams.updateTeam(req.params.id, req.body)));

  app.post('/v1/admin/teams/:id/keys', {
    schema: { summary: 'Issue an API key for a team. The key is in this answer only.', tags, params: TeamParams, body: ApiKeyCreateRequest.nullish(), response: { 201: ApiKeyWithSecret, ...errors } },
  }, async (req, reply) => {
    const body = ApiKeyCreateRequest.parse(req.body ?? {});
    const { key, record } = await d.teams.createKey(req.params.id, body.name);
    return reply.status(201).send({ ...record, key });
  });

  app.get('/v1/admin/teams/:id/keys', {
    schema: { summary: "A team's API keys (never the secrets), revoked ones included.", tags, params: TeamParams, response: { 200: ApiKeyList, ...errors } },
  }, async (req) => ({ object: 'list' as const, data: await d.teams.listKeys(req.params.id) }));

  app.get('/v1/admin/keys/:id', {
    schema: { summary: 'One API key (never the secret).', tags, params: KeyParams, response: { 200: ApiKey, ...errors } },
  }, async (req) => {
    const k = await d.teams.getKey(req.params.id);
    if (!k) throw new ApiError('api_key_not_found', `No API key ${req.params.id}.`, { param: 'id' });
    return k;
  });

  app.post('/v1/admin/keys/:id/revoke', {
    schema: { summary: 'Revoke a key for good (idempotent); refused on every server within seconds.', tags, params: KeyParams, response: { 200: ApiKey, ...errors } },
  }, async (req) => d.teams.revokeKey(req.params.id));

  app.post('/v1/admin/keys/:id/rotate', {
    schema: {
      summary: 'Issue a new key for the same team and revoke this one, at once or after overlap_s seconds.',
      tags, params: KeyParams, body: ApiKeyRotateRequest.nullish(), response: { 201: ApiKeyRotation, ...errors },
    },
  }, async (req, reply) => {
    const body = ApiKeyRotateRequest.parse(req.body ?? {});
    const r = await d.teams.rotateKey(req.params.id, body.overlap_s, body.name);
    return reply.status(201).send({ object: 'api_key_rotation' as const, key: { ...r.record, key: r.key }, replaced: r.replaced });
  });
};

function present(t: StoredTeam): Team {
  return { id: t.id, object: 'team', name: t.name, settings: t.settings, webhook_secret: t.webhookSecret, created_at: t.createdAt ?? '' };
}
