/**
 * The OpenTelemetry side of {@link Tracer}: imported only by createTracer when tracing is on.
 * No global provider or context manager is registered: parents are passed explicitly (they
 * cross event-loop turns, a group commit and processes), so nothing else in the process changes.
 */
import {
  defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind as OtelKind, SpanStatusCode, trace, type Link,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Config } from '../config.js';
import type { SpanKind, SpanOptions, TraceParent, TraceSpan, Tracer } from '../tracing.js';

const propagator = new W3CTraceContextPropagator();
const KINDS: Record<SpanKind, OtelKind> = {
  internal: OtelKind.INTERNAL, server: OtelKind.SERVER, client: OtelKind.CLIENT, producer: OtelKind.PRODUCER, consumer: OtelKind.CONSUMER,
};

const contextOf = (parent: TraceParent) => propagator.extract(ROOT_CONTEXT, { traceparent: parent }, defaultTextMapGetter);

export function createOtelTracer(config: Config['tracing'], service: string): Tracer {
  const exporters: SpanExporter[] = config.exporters.map((e) => (e === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter()));
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (envDetector) win over our default name.
  const resource = defaultResource().merge(resourceFromAttributes({ 'service.name': service })).merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({ resource, spanProcessors: exporters.map((e) => new BatchSpanProcessor(e)) });
  const tracer = provider.getTracer('clickvid');

  return {
    enabled: true,
    start(name: string, o: SpanOptions = {}): TraceSpan {
      const links: Link[] = [];
      for (const l of o.links ?? []) {
        const sc = trace.getSpanContext(contextOf(l));
        if (sc) links.push({ context: sc });
      }
      const span = tracer.startSpan(
        name,
        { kind: KINDS[o.kind ?? 'internal'], links, ...(o.attributes ? { attributes: o.attributes } : {}), ...(o.startTime !== undefined ? { startTime: o.startTime } : {}) },
        o.parent ? contextOf(o.parent) : ROOT_CONTEXT,
      );
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
      return {
        context: carrier['traceparent'] ?? null,
        setAttribute: (k, v) => void span.setAttribute(k, v),
        fail(err: unknown) {
          const e = err instanceof Error ? err : new Error(String(err));
          span.recordException(e);
          span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
        },
        end: (t) => span.end(t),
      };
    },
    shutdown: () => provider.shutdown(),
  };
}
