import { readFileSync } from 'node:fs';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { promtool } from '../test/promtool.js';

const base = new URL('./base/', import.meta.url);
const kinds: Record<string, new (o: any) => { validate(): void }> = {
  Deployment, Service, ConfigMap, Namespace, PodDisruptionBudget, HorizontalPodAutoscaler, ScaledObject,
};

describe('deploy manifests', () => {
  const kustomization = parse(readFileSync(new URL('kustomization.yaml', base), 'utf8'));
  const docs = (kustomization.resources as string[]).flatMap((f) =>
    parseAllDocuments(readFileSync(new URL(f, base), 'utf8')).map((d) => ({ file: f, obj: d.toJS() })),
  );

  it('validate against the Kubernetes and KEDA schemas', () => {
    for (const { file, obj } of docs) {
      const Kind = kinds[obj.kind];
      expect(Kind, `${file}: ${obj.kind}`).toBeTruthy();
      expect(() => new Kind!(obj).validate(), `${file}: ${obj.kind}/${obj.metadata?.name}`).not.toThrow();
    }
  });

  it('scale each worker pool on its own lane and keep one warm draft worker', () => {
    const scaled = docs.filter((d) => d.obj.kind === 'ScaledObject').map((d) => d.obj);
    const deployments = new Map(docs.filter((d) => d.obj.kind === 'Deployment').map((d) => [d.obj.metadata.name, d.obj]));
    for (const so of scaled) {
      const dep = deployments.get(so.spec.scaleTargetRef.name);
      const lane = dep.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'CLICKVID_WORKER_LANES').value;
      expect(so.spec.triggers[0].metadata.query).toContain(`lane="${lane}"`);
    }
    expect(scaled.find((s) => s.metadata.name === 'clickvid-worker-draft').spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });

  it('prewarm more draft workers in peak hours with a KEDA cron trigger', () => {
    const draft = docs.find((d) => d.obj.kind === 'ScaledObject' && d.obj.metadata.name === 'clickvid-worker-draft')!.obj;
    const cron = draft.spec.triggers.find((t: { type: string }) => t.type === 'cron');
    expect(cron, 'a cron trigger on the draft pool').toBeTruthy();
    const field = /^(\*|\d+(-\d+)?(,\d+(-\d+)?)*)(\/\d+)?$/;
    for (const k of ['start', 'end']) {
      const parts = String(cron.metadata[k]).split(/\s+/);
      expect(parts, `${k}: five cron fields`).toHaveLength(5);
      for (const p of parts) expect(p, `${k}: ${cron.metadata[k]}`).toMatch(field);
    }
    expect(() => new Intl.DateTimeFormat('en-US', { timeZone: cron.metadata.timezone })).not.toThrow();
    expect(Number(cron.metadata.desiredReplicas)).toBeGreaterThan(draft.spec.minReplicaCount);
    expect(Number(cron.metadata.desiredReplicas)).toBeLessThanOrEqual(draft.spec.maxReplicaCount);
  });

  it('has Prometheus rules that promtool accepts', async () => {
    const rules = new URL('./monitoring/rules.yaml', import.meta.url).pathname;
    expect(parse(readFileSync(rules, 'utf8')).groups[0].rules.length).toBeGreaterThan(0);
    const check = await promtool(['check', 'rules', rules]);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/SUCCESS: [1-9]\d* rules found/);
  });
});
