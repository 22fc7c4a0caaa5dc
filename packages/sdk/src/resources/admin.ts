import {
  ApiKey, ApiKeyList, ApiKeyRotation, ApiKeyWithSecret, Team, TeamList,
  type ApiKeyCreateRequest, type ApiKeyRotateRequest, type TeamCreateRequest, type TeamUpdateRequest,
} from '@clickvid/contracts';
import { APIPromise } from '../api-promise.js';
import type { RequestOptions, Transport } from '../internal/transport.js';

const seg = (s: string) => encodeURIComponent(s);

/**
 * A new key is shown once: a retry after a lost answer would issue a second key whose
 * secret nobody saw, so creates and rotations are not retried unless the caller asks.
 */
const once = (options: RequestOptions): RequestOptions => ({ maxRetries: 0, ...options });

/** Teams and their settings (admin key). */
export class AdminTeams {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** Creates a team with the given name and settings. */
  create(params: TeamCreateRequest, options: RequestOptions = {}): APIPromise<Team> {
    return new APIPromise(this.transport.json(Team, { ...options, method: 'POST', path: '/v1/admin/teams', body: params }));
  }

  /** Every team, oldest first. */
  list(options: RequestOptions = {}): APIPromise<TeamList> {
    return new APIPromise(this.transport.json(TeamList, { ...options, method: 'GET', path: '/v1/admin/teams' }));
  }

  /** One team with its settings. */
  retrieve(id: string, options: RequestOptions = {}): APIPromise<Team> {
    return new APIPromise(this.transport.json(Team, { ...options, method: 'GET', path: `/v1/admin/teams/${seg(id)}` }));
  }

  /** Renames a team or changes its settings; only the fields given change. */
  update(id: string, params: TeamUpdateRequest, options: RequestOptions = {}): APIPromise<Team> {
    return new APIPromise(this.transport.json(Team, { ...options, method: 'POST', path: `/v1/admin/teams/${seg(id)}`, body: params }));
  }
}

/** API keys of teams (admin key). Secrets appear only in what `create` and `rotate` return. */
export class AdminKeys {
  /** @internal */
  constructor(private readonly transport: Transport) {}

  /** A new key for the team; its secret is in this answer only, so this call is not retried unless asked. */
  create(team: string, params: ApiKeyCreateRequest = {}, options: RequestOptions = {}): APIPromise<ApiKeyWithSecret> {
    return new APIPromise(this.transport.json(ApiKeyWithSecret, { ...once(options), method: 'POST', path: `/v1/admin/teams/${seg(team)}/keys`, body: params }));
  }

  /** The team's keys (no secrets). */
  list(team: string, options: RequestOptions = {}): APIPromise<ApiKeyList> {
    return new APIPromise(this.transport.json(ApiKeyList, { ...options, method: 'GET', path: `/v1/admin/teams/${seg(team)}/keys` }));
  }

  /** One key (no secret). */
  retrieve(id: string, options: RequestOptions = {}): APIPromise<ApiKey> {
    return new APIPromise(this.transport.json(ApiKey, { ...options, method: 'GET', path: `/v1/admin/keys/${seg(id)}` }));
  }

  /** Revokes for good (idempotent); every server refuses the key within seconds. */
  revoke(id: string, options: RequestOptions = {}): APIPromise<ApiKey> {
    return new APIPromise(this.transport.json(ApiKey, { ...options, method: 'POST', path: `/v1/admin/keys/${seg(id)}/revoke`, body: {} }));
  }

  /** A new key for the same team; the old one is revoked now or after `overlap_s` seconds. */
  rotate(id: string, params: ApiKeyRotateRequest = {}, options: RequestOptions = {}): APIPromise<ApiKeyRotation> {
    return new APIPromise(this.transport.json(ApiKeyRotation, { ...once(options), method: 'POST', path: `/v1/admin/keys/${seg(id)}/rotate`, body: params }));
  }
}

/** The admin API (/v1/admin): construct the client with an admin key to use it. */
export class Admin {
  /** Teams and their settings. */
  readonly teams: AdminTeams;
  /** API keys of teams. */
  readonly keys: AdminKeys;

  /** @internal */
  constructor(transport: Transport) {
    this.teams = new AdminTeams(transport);
    this.keys = new AdminKeys(transport);
  }
}
