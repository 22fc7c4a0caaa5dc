/** @clickvid/worker: BullMQ consumers, the scheduled inference engine and encoder. */
export { startWorker, type StartWorkerOptions, type RunningWorker } from './worker.js';
export { createProcessor, outputCacheHook, ENCODE_NICE, PRESET, type ProcessorDeps, type RenderCache, type RenderOutcome } from './processor.js';
export { ScheduledEngine, RenderCanceled, type RenderControl, type RenderRequest, type RenderShare, type ScheduledEngineOptions } from './scheduled-engine.js';
export { StepScheduler, FRAME_QUANTUM, type StepSchedulerOptions } from './step-scheduler.js';
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
