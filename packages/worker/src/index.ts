/** @clickvid/worker: BullMQ consumers, batcher, inference engine and encoder. */
export { startWorker, type StartWorkerOptions, type RunningWorker } from './worker.js';
export { createProcessor, outputCacheHook, PRESET, type ProcessorDeps, type RenderCache, type RenderInput, type RenderOutcome } from './processor.js';
export { Batcher, batchKey, LANE_ORDER, type BatcherOptions, type BatchLane, type BatchShare, type LaneBatching, type RunBatch, type SubmitOptions } from './batcher.js';
export { InferenceEngine, sha256File, type EngineItem, type EngineResult, type InferenceEngineOptions, type VariantFile } from './engine.js';
export { Encoder, type EncodeResult, type EncodeSpec, type EncoderOptions } from './encoder.js';
export { WorkerError, classifyError, toBullError } from './errors.js';
export { WorkerMetrics } from './metrics.js';
export { PipelineRunner, type ClipShape, type DecodeRow, type PipelineRunnerOptions, type StepRow } from './pipeline/runner.js';
export { runPipeline, type RenderedClip } from './pipeline/run-pipeline.js';
export { FlowMatchEulerScheduler, calculateShift, scaleNoise, type FlowMatchState } from './pipeline/flow-match-euler.js';
export { classifierFreeGuidance, needsUncond } from './pipeline/guidance.js';
export { sessionOptions } from './pipeline/session.js';
export { Watchdog } from './watchdog.js';
export { reconcileOnce, startReconciler, type ReconcileReport } from './reconciler.js';
