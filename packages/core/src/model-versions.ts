import { createHash } from 'node:crypto';
import { ModelError, ModelRegistry } from './model-registry.js';

/** A model version that serves jobs, and the share of new jobs routed to it. */
export interface ServedVersion {
  registry: ModelRegistry;
  channel: 'stable' | 'canary';
  /** Share of new jobs (0..1); the stable version gets what the canary does not. */
  share: number;
}

/**
 * The versions of one model a deployment serves: the stable one (CLICKVID_MODEL) and, when its
 * manifest names one, a canary that gets `canary.share` of new jobs. Routing is a pure function
 * of prompt and seed, so a repeat of the same request lands on the same version (its cached
 * output stays reachable) and a test of the split cannot flake. Jobs that derive from another
 * (`from_job`, promote) are pinned to their parent's version instead (see {@link pinned}).
 */
export class ModelVersions {
  private readonly byVersion = new Map<string, ModelRegistry>();

  constructor(
    readonly stable: ModelRegistry,
    readonly canary: { registry: ModelRegistry; share: number } | null = null,
  ) {
    this.byVersion.set(stable.version, stable);
    if (canary) {
      if (canary.registry.id !== stable.id) {
        throw new ModelError('model_unavailable', `canary ${canary.registry.id}@${canary.registry.version} is not a version of ${stable.id}`);
      }
      if (canary.registry.version === stable.version) throw new ModelError('model_unavailable', `canary version ${stable.version} is the stable version`);
      this.byVersion.set(canary.registry.version, canary.registry);
    }
  }

  /** The stable model's versions: its own, and the canary its manifest names (read from models/<canary.model>). */
  static load(modelsDir: string, name: string): ModelVersions {
    return ModelVersions.from(ModelRegistry.load(modelsDir, name), modelsDir);
  }

  /** {@link load} for a registry already loaded. */
  static from(stable: ModelRegistry, modelsDir: string): ModelVersions {
    const c = stable.manifest.canary;
    if (!c || c.share === 0) return new ModelVersions(stable);
    const registry = ModelRegistry.load(modelsDir, c.model);
    if (registry.version !== c.version) {
      throw new ModelError('model_unavailable', `the canary in ${c.model} is version ${registry.version}, the manifest of ${stable.id}@${stable.version} names ${c.version}`);
    }
    return new ModelVersions(stable, { registry, share: c.share });
  }

  /** Every version served, stable first, with its share of new jobs. */
  served(): ServedVersion[] {
    const out: ServedVersion[] = [{ registry: this.stable, channel: 'stable', share: 1 - (this.canary?.share ?? 0) }];
    if (this.canary) out.push({ registry: this.canary.registry, channel: 'canary', share: this.canary.share });
    return out;
  }

  /** The registry of a version this deployment serves, or undefined. */
  get(version: string): ModelRegistry | undefined {
    return this.byVersion.get(version);
  }

  /**
   * The version a new job goes to: the canary when the job's point in [0, 1) — the first 32
   * bits of sha256(prompt, seed) — falls below its share.
   */
  route(prompt: string, seed: number): ModelRegistry {
    if (!this.canary) return this.stable;
    return routePoint(prompt, seed) < this.canary.share ? this.canary.registry : this.stable;
  }

  /**
   * The version a derived job (from_job, promote) renders with: its parent's, so a final shows
   * the draft's scene. When that version is no longer served, the stable one, with a warning.
   */
  pinned(version: string): { registry: ModelRegistry; warning: string | null } {
    const registry = this.get(version);
    if (registry) return { registry, warning: null };
    return {
      registry: this.stable,
      warning: `Model version ${version} of the parent job is no longer served; rendered with ${this.stable.version}.`,
    };
  }
}

/** Where a (prompt, seed) pair falls in [0, 1): uniform over distinct pairs, the same on every replica. */
export function routePoint(prompt: string, seed: number): number {
  return createHash('sha256').update(`${seed}\u0000${prompt}`).digest().readUInt32BE(0) / 2 ** 32;
}

const digests = new WeakMap<ModelRegistry, string>();

/**
 * sha256 of the whole model: its manifest (canonical JSON), which names every file with its
 * sha256 (the worker refuses a file that does not match), so it covers the files too. The
 * canary field is left out: shifting traffic does not change what the model draws. Part of the
 * output-cache key, so no cached output crosses versions, nor a manifest change (noise, vocabulary).
 */
export function modelDigest(registry: ModelRegistry): string {
  let d = digests.get(registry);
  if (d === undefined) {
    const { canary: _canary, ...rest } = registry.manifest;
    d = createHash('sha256').update(canonicalJson(rest)).digest('hex');
    digests.set(registry, d);
  }
  return d;
}

/** JSON with object keys sorted and undefined members left out: one text per value (hashes of requests and manifests). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
