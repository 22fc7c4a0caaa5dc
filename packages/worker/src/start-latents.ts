import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Job } from '@clickvid/contracts';
import { ATTEMPT_FILES, keys, latentShape, type AssetStore, type JobStore, type Logger, type ModelRegistry, type Redis, type Storage } from '@clickvid/core';

/** What a job promoted from a draft starts from: the draft's stored latents and the size of its clip. */
export interface StartPoint {
  /** The draft's job id. */
  from: string;
  /** float32: a pipeline's final latents [channels, frames, h, w]; the single graph's seed noise vector. */
  latents: Float32Array;
  /** sha256 of the latents' bytes, as stored: part of the promoted job's output-cache key. */
  sha256: string;
  frames: number;
  width: number;
  height: number;
}

export interface StartLatentsDeps {
  redis: Redis;
  store: JobStore;
  assets: AssetStore;
  storage: Storage;
  registry: ModelRegistry;
  logger: Logger;
  /** How often a promotion of a draft still queued or running looks again. @defaultValue 100 */
  pollMs?: number;
  /** How long it waits for that draft before it starts from its seed instead. @defaultValue 120 000 */
  waitMs?: number;
}

/**
 * Refine-on-promote, the worker's side. Every draft (and standard) job stores the latents it ended
 * with beside its video, `jobs/<id>/<attempt>/latents.f32`: a pipeline's denoised latents, the
 * single graph's seed noise vector (2.0.0's only latent). A job promoted from it (the child that
 * `cv:promote:{draft}:{quality}` names, so an iteration with `from_job` is not one) starts from
 * those latents, found through the draft's video asset: a draft served from the output cache
 * points at the files of the job that rendered it, latents included. A promotion of a draft still
 * queued or running waits for it here.
 *
 * It starts from its seed instead, as any job, when the draft failed or was canceled, was made
 * by another model version, rendered before latents were stored, or when the model has no refine
 * block: a promotion never fails for want of its draft's latents.
 */
export class StartLatents {
  readonly #d: StartLatentsDeps;

  constructor(deps: StartLatentsDeps) {
    this.#d = deps;
  }

  /**
   * The start point of a job, or null when it starts from its seed. `stillWanted` is asked
   * between looks while the draft runs (the job's own progress write: false once it was
   * canceled); 'stopped' when it said no.
   */
  async forJob(job: Job, stillWanted: () => Promise<boolean>): Promise<StartPoint | null | 'stopped'> {
    const { registry } = this.#d;
    const parentId = job.parent_job_id;
    if (parentId === null || (registry.form === 'pipeline' && registry.pipeline.refine === null)) return null;
    if ((await this.#d.redis.get(keys.promotion(parentId, job.quality))) !== job.id) return null;
    const deadline = Date.now() + (this.#d.waitMs ?? 120_000);
    let parent = await this.#d.store.get(parentId);
    while (parent && (parent.job.status === 'queued' || parent.job.status === 'running')) {
      if (Date.now() > deadline) {
        this.#d.logger.warn({ jobId: job.id, from: parentId }, 'the draft is still rendering: the promoted job starts from its seed');
        return null;
      }
      await new Promise((r) => setTimeout(r, this.#d.pollMs ?? 100));
      if (!(await stillWanted())) return 'stopped';
      parent = await this.#d.store.get(parentId);
    }
    const p = parent?.job;
    if (!p || p.status !== 'succeeded' || !p.assets || p.model.id !== registry.id || p.model.version !== registry.version) return null;
    const video = await this.#d.assets.get(p.assets.video);
    if (!video) return null;
    const bytes = await this.#read(posix.join(posix.dirname(video.storage_key), ATTEMPT_FILES[2]));
    if (bytes === null || bytes.length !== 4 * this.#expected(p)) return null;
    const latents = new Float32Array(bytes.length / 4);
    Buffer.from(latents.buffer).set(bytes);
    return {
      from: parentId, latents, sha256: createHash('sha256').update(bytes).digest('hex'),
      frames: p.params.frames, width: p.params.width, height: p.params.height,
    };
  }

  /** Values in the latents of a job rendered at `p.params`. */
  #expected(p: Job): number {
    const { pipeline, manifest } = this.#d.registry;
    if (pipeline.latent === null) return manifest.noise?.dim ?? 0;
    return latentShape(pipeline.latent, p.params.frames, p.params.width, p.params.height).reduce((a, b) => a * b, 1);
  }

  async #read(key: string): Promise<Buffer | null> {
    try {
      const chunks: Buffer[] = [];
      for await (const c of await this.#d.storage.get(key)) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}

/** The bytes a latents file holds: float32, little-endian as the CPU writes them. */
export function latentsBytes(latents: Float32Array): Buffer {
  return Buffer.from(latents.buffer, latents.byteOffset, latents.byteLength);
}
