/**
 * Messages between the worker's main thread ({@link ScheduledEngine}) and its engine thread
 * (engine-thread.ts). Types only: both sides import them, neither imports the other.
 */
import type { VariantFile } from './engine.js';
import type { UnitLane } from './step-scheduler.js';
import type { Quality } from '@clickvid/contracts';

export interface EngineThreadOptions {
  intraOpNumThreads: number;
  executionProviders: string[];
  /** Target wall ms of one unit; decides the rows per call (not the chunk: that is fixed per job). */
  unitMs: number;
  /** False: every call takes as many rows as the lane allows, whatever they cost (tests). */
  rowsByCost: boolean;
  minFinalShare: number;
  maxPausedBytes: number;
  /** Most rows per call, per lane (the lanes' max batch). */
  maxRows: Record<UnitLane, number>;
  /** Bytes of text embeddings kept for pipeline models. */
  embeddingCacheBytes: number;
}

/** A variant as the thread needs it: where its file is, and a first guess at its cost. */
export interface ThreadVariant extends VariantFile {
  /** ms per frame at batch 1 (the manifest's figure), until the thread has measured its own. */
  msPerFrame: number;
}

export type ToThread =
  | { type: 'warm'; id: number; variant: ThreadVariant }
  /** Verifies (sha256) and loads every component of a pipeline-form model. */
  | { type: 'warm-pipeline'; id: number; modelsDir: string; model: string }
  | {
      type: 'render';
      id: number;
      lane: UnitLane;
      variant: ThreadVariant;
      /** Frames per unit: the whole clip for a draft. */
      chunk: number;
      tokens: BigInt64Array;
      noise: Float32Array;
      times: Float32Array;
    }
  /** A job of a pipeline-form model: the thread tokenizes, encodes, denoises and decodes. */
  | ({ type: 'render-pipeline'; id: number } & PipelineRenderRequest)
  | { type: 'cancel'; id: number }
  | { type: 'close' };

/** A job of a pipeline-form model, as the main thread hands it over. */
export interface PipelineRenderRequest {
  lane: UnitLane;
  modelsDir: string;
  model: string;
  quality: Quality;
  prompt: string;
  seed: number;
  /** Video frames, on the model's frame rule; the tier's when absent. */
  frames?: number;
  /**
   * A job promoted from a draft: the draft's final latents and the size of its clip. The job
   * starts from them through the manifest's `refine` block instead of from its seed alone.
   */
  start?: { latents: Float32Array; frames: number; width: number; height: number };
}

export interface SerializedError {
  code: string;
  message: string;
  retryable: boolean;
}

export interface UnitReport {
  lane: UnitLane;
  /** The jobs whose rows were in the call (their render ids): a batch's spans link them. */
  ids: number[];
  /** What the call did: `decode` (single graph, or a pipeline's decoder), `text_encode`, `denoise`. */
  stage: 'text_encode' | 'denoise' | 'decode';
  /** When the call started, epoch ms (this thread's clock: performance.timeOrigin + now). */
  startedAt: number;
  /** What ran: rows share a call only with the same key (stage, variant, shapes). */
  key: string;
  variant: string;
  rows: number;
  frames: number;
  seconds: number;
}

export type FromThread =
  | { type: 'warmed'; id: number }
  | { type: 'failed'; id: number; error: SerializedError }
  /** One unit ran: its figures, and each row's job with the fraction of its frames now done. */
  | { type: 'unit'; unit: UnitReport; progress: [id: number, fraction: number][] }
  | {
      type: 'done';
      id: number;
      /** frames × height × width × 3 RGB bytes: the job's own buffer, transferred. */
      video: ArrayBuffer;
      width: number;
      height: number;
      frames: number;
      /** This job's share of every call it was in. */
      seconds: number;
      units: number;
      /** Most rows in any call it was in. */
      maxRows: number;
      /** Seconds from submit to its first unit. */
      waitSeconds: number;
      /** A pipeline job's final latents (float32, transferred): what a job promoted from it starts from. */
      latents?: ArrayBuffer;
    }
  | { type: 'canceled'; id: number }
  | { type: 'closed' };
