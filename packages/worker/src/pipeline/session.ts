import { verifyPipelineFile, type PipelineFile } from '@clickvid/core';
import * as ort from 'onnxruntime-node';
import { WorkerError } from '../errors.js';

/**
 * Session options for every component, the same as the single-graph engine's: CPU, a fixed
 * number of intra-op threads, one run at a time, no spin-waiting after a run (the spinning
 * threads would take the cores this job's encoder wants).
 */
export function sessionOptions(intraOpNumThreads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** A session for one component file, made only after its sha256 matched the manifest. */
export async function createSession(file: PipelineFile, intraOpNumThreads: number): Promise<ort.InferenceSession> {
  try {
    await verifyPipelineFile(file);
  } catch (err) {
    throw new WorkerError('model_unavailable', (err as Error).message, { retryable: false, cause: err });
  }
  try {
    return await ort.InferenceSession.create(file.path, sessionOptions(intraOpNumThreads));
  } catch (err) {
    throw new WorkerError('model_unavailable', `onnxruntime cannot load ${file.path}: ${(err as Error).message}`, { retryable: false, cause: err });
  }
}

/** One session.run, its failure turned into a retryable inference_failed naming the component. */
export async function runSession(
  session: ort.InferenceSession,
  component: string,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await session.run(feeds);
  } catch (err) {
    throw new WorkerError('inference_failed', `${component}: session.run failed: ${(err as Error).message}`, { retryable: true, cause: err });
  }
}
