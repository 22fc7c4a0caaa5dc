/**
 * Traces of a job across processes (OpenTelemetry), behind a small interface of our own: when
 * tracing is off (the default) nothing of the OpenTelemetry SDK is loaded — {@link createTracer}
 * imports it only when the config turns tracing on — and every call site costs a branch.
 *
 * Contexts cross processes as a W3C `traceparent` string: in the BullMQ job data (submit →
 * worker), on the job record (`_trace`, for the webhook sender) and in the outbox entry.
 */
import type { Config } from './config.js';

/** A W3C trace-context `traceparent` header value: `00-<trace id>-<span id>-<flags>`. */
export type TraceParent = string;

export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface SpanOptions {
  /** The parent span's context, from this process or carried from another. */
  parent?: TraceParent | null | undefined;
  /** Contexts this span is linked to (a batch links to each of its jobs). */
  links?: TraceParent[];
  attributes?: Record<string, string | number | boolean>;
  /** Epoch ms; now when absent (a span recorded after the fact, e.g. from engine timings). */
  startTime?: number;
  /** @defaultValue 'internal' */
  kind?: SpanKind;
}

export interface TraceSpan {
  /** This span's context, to parent children or to carry to another process; null when tracing is off. */
  readonly context: TraceParent | null;
  setAttribute(key: string, value: string | number | boolean): void;
  /** Marks the span failed with the error. */
  fail(err: unknown): void;
  /** @param endTime - epoch ms; now when absent */
  end(endTime?: number): void;
}

export interface Tracer {
  /** False when tracing is off: callers skip work whose only use is a span. */
  readonly enabled: boolean;
  start(name: string, options?: SpanOptions): TraceSpan;
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

const NOOP_SPAN: TraceSpan = { context: null, setAttribute() {}, fail() {}, end() {} };

/** The tracer when tracing is off: no spans, no OpenTelemetry module loaded. */
export const NO_TRACER: Tracer = { enabled: false, start: () => NOOP_SPAN, shutdown: async () => undefined };

/**
 * The process's tracer, from the standard OpenTelemetry variables (parsed in config.ts):
 * OTEL_TRACES_EXPORTER `otlp` or `console` turns tracing on. The exporter reads the rest
 * itself (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, …_HEADERS, OTEL_BSP_*),
 * and the resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
 *
 * @param service - the service name when OTEL_SERVICE_NAME is unset (`clickvid-server`, `clickvid-worker`)
 */
export async function createTracer(config: Pick<Config, 'tracing'>, service: string): Promise<Tracer> {
  if (config.tracing.exporters.length === 0) return NO_TRACER;
  // Loaded only here: with tracing off the SDK never enters the process (a test checks).
  const { createOtelTracer } = await import('./internal/otel.js');
  return createOtelTracer(config.tracing, service);
}
