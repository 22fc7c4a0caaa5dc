import {
  ApiKey, ApiKeyList, ApiKeyRotation, ApiKeyWithSecret, Team, TeamList,
  type ApiKeyCreateRequest, type ApiKeyRotateRequest, type TeamCreateRequest, type TeamUpdateRequest,
} from '@clickvid/contracts';
import type { RequestOptions, Transport } from '../internal/transport.js';

const seg = (s: string) => encodeURIComponent(s);

/**
 * A new key is shown once: a retry after a lost answer would issue a second key whose
 * secret nobody saw, so creates and rotations are not retried unless the caller asks.
 */
const once = (options: RequestOptions): RequestOptions => ({ maxRetries: 0, ...options });

/** Teams and their settings (admin key). */
export class AdminTeams {
  constructor(private readonly transport: Transport) {}

  async create(params: TeamCreateRequest, options: RequestOptions = {}): Promise<Team> {
    return (await this.transport.json(Team, { ...options, method: 'POST', path: '/v1/admin/teams', body: params })).data;
  }

  async list(options: RequestOptions = {}): Promise<TeamList> {
    return (await this.transport.json(TeamList, { ...options, method: 'GET', path: '/v1/admin/teams' })).data;
  }

  async retrieve(id: string, options: RequestOptions = {}): Promise<Team> {
    return (await this.transport.json(Team, { ...options, method: 'GET', path: `/v1/admin/teams/${seg(id)}` })).data;
  }

  /** Renames a team or changes its settings; only the fields given change. */
  async update(id: string, params: TeamUpdateRequest, options: RequestOptions = {}): Promise<Team> {
    return (await this.transport.json(Team, { ...options, method: 'POST', path: `/v1/admin/teams/${seg(id)}`, body: params })).data;
  }
}

/** API keys of teams (admin key). Secrets appear only in what `create` and `rotate` return. */
export class AdminKeys {
  constructor(private readonly transport: Transport) {}

  async create(team: string, params: ApiKeyCreateRequest = {}, options: RequestOptions = {}): Promise<ApiKeyWithSecret> {
    return (await this.transport.json(ApiKeyWithSecret, { ...once(options), method: 'POST', path: `/v1/admin/teams/${seg(team)}/keys`, body: params })).data;
  }

  async list(team: string, options: RequestOptions = {}): Promise<ApiKeyList> {
    return (await this.transport.json(ApiKeyList, { ...options, method: 'GET', path: `/v1/admin/teams/${seg(team)}/keys` })).data;
  }

  async retrieve(id: string, options: RequestOptions = {}): Promise<ApiKey> {
    return (await this.transport.json(ApiKey, { ...options, method: 'GET', path: `/v1/admin/keys/${seg(id)}` })).data;
  }

  /** Revokes for good (idempotent); every server refuses the key within seconds. */
  async revoke(id: string, options: RequestOptions = {}): Promise<ApiKey> {
    return (await this.transport.json(ApiKey, { ...options, method: 'POST', path: `/v1/admin/keys/${seg(id)}/revoke`, body: {} })).data;
  }

  /** A new key for the same team; the old one is revoked now or after `overlap_s` seconds. */
  async rotate(id: string, params: ApiKeyRotateRequest = {}, options: RequestOptions = {}): Promise<ApiKeyRotation> {
    return (await this.transport.json(ApiKeyRotation, { ...once(options), method: 'POST', path: `/v1/admin/keys/${seg(id)}/rotate`, body: params })).data;
  }
}

/** The admin API (/v1/admin): construct the client with an admin key to use it. */
export class Admin {
  readonly teams: AdminTeams;
  readonly keys: AdminKeys;

  constructor(transport: Transport) {
    this.teams = new AdminTeams(transport);
    this.keys = new AdminKeys(transport);
  }
}
