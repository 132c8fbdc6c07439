import { subjects } from '@vivified/contracts';
import { describe, expect, it } from 'vitest';

import type { HandlerObserver } from './metrics';
import { ServiceMetrics } from './metrics';

describe(ServiceMetrics.name, () => {
  it('counts handled messages and their latency by subject, kind and outcome', async () => {
    const sut = new ServiceMetrics({ service: 'identity', processMetrics: false });
    const observer: HandlerObserver = sut;

    observer.onHandled({
      subject: subjects.identity.info,
      kind: 'rpc',
      outcome: 'ok',
      durationSeconds: 0.0004,
    });
    observer.onHandled({
      subject: subjects.identity.info,
      kind: 'rpc',
      outcome: 'ok',
      durationSeconds: 0.2,
    });
    observer.onHandled({
      subject: subjects.identity.info,
      kind: 'rpc',
      outcome: 'denied',
      durationSeconds: 7,
    });

    const value = async (name: string, labels: Record<string, string | number>, series = name) => {
      const metric = await sut.registry.getSingleMetric(name)?.get();
      const matches = (entry: { labels: Record<string, string | number | undefined>; metricName?: string }) =>
        (entry.metricName ?? name) === series &&
        Object.entries(labels).every(([key, v]) => entry.labels[key] === v);

      return metric?.values.find(matches)?.value;
    };
    const ok = { subject: subjects.identity.info, kind: 'rpc', outcome: 'ok' };
    const bucket = 'vivified_handler_duration_seconds_bucket';
    expect(await value('vivified_handler_requests_total', ok)).toBe(2);
    expect(await value('vivified_handler_requests_total', { ...ok, outcome: 'denied' })).toBe(1);
    expect(await value('vivified_handler_duration_seconds', { ...ok, le: 0.0005 }, bucket)).toBe(1);
    expect(await value('vivified_handler_duration_seconds', { ...ok, le: 0.25 }, bucket)).toBe(2);
    expect(await value('vivified_handler_duration_seconds', { ...ok, le: 5 }, bucket)).toBe(2);
    expect(
      await value('vivified_handler_duration_seconds', { ...ok, outcome: 'denied', le: 5 }, bucket),
    ).toBe(0);
    expect(
      await value('vivified_handler_duration_seconds', { ...ok, outcome: 'denied', le: '+Inf' }, bucket),
    ).toBe(1);
    expect(await sut.render()).toContain(
      `vivified_handler_requests_total{subject="${subjects.identity.info}",kind="rpc",outcome="ok",service="identity"} 2`,
    );
  });

  it('exposes readiness, NATS and audit metrics', async () => {
    const sut = new ServiceMetrics({ service: 'audit', processMetrics: false });

    sut.setReady(true);
    sut.setNatsConnected(false);
    sut.auditEmit('published');
    sut.auditEmit('buffered');
    sut.auditEmit('buffered');
    sut.auditDrop(3);
    sut.setAuditBuffered(7);

    const text = await sut.render();
    expect(text).toContain('vivified_service_ready{service="audit"} 1');
    expect(text).toContain('vivified_nats_connected{service="audit"} 0');
    expect(text).toContain('vivified_audit_emitted_total{outcome="buffered",service="audit"} 2');
    expect(text).toContain('vivified_audit_dropped_total{service="audit"} 3');
    expect(text).toContain('vivified_audit_buffered{service="audit"} 7');
    expect(sut.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('exposes the policy sidecar metrics: decisions by effect and rule, latency, bundle version, rejections', async () => {
    const sut = new ServiceMetrics({ service: 'registry', processMetrics: false });

    sut.policyDecision('allow', 'capability', 0.000004);
    sut.policyDecision('allow', 'capability', 0.00003);
    sut.policyDecision('deny', 'default_deny', 0.002);
    sut.setPolicyBundleVersion(12);
    sut.policyBundleRejected('signature');

    const text = await sut.render();
    expect(text).toContain(
      'vivified_policy_decisions_total{effect="allow",rule="capability",service="registry"} 2',
    );
    expect(text).toContain(
      'vivified_policy_decisions_total{effect="deny",rule="default_deny",service="registry"} 1',
    );
    expect(text).toContain('vivified_policy_decision_seconds_bucket{le="0.000005",service="registry"} 1');
    expect(text).toContain('vivified_policy_decision_seconds_count{service="registry"} 3');
    expect(text).toContain('vivified_policy_bundle_version{service="registry"} 12');
    expect(text).toContain('vivified_policy_bundle_rejected_total{reason="signature",service="registry"} 1');
  });

  it('names every metric, process metrics included, with the vivified_ prefix', async () => {
    const sut = new ServiceMetrics({ service: 'policy' });

    const names = (await sut.registry.getMetricsAsJSON()).map((metric) => metric.name);

    expect(names).toContain('vivified_process_cpu_user_seconds_total');
    expect(names).toContain('vivified_nodejs_eventloop_lag_seconds');
    expect(names.filter((name) => !name.startsWith('vivified_'))).toEqual([]);
    expect(await sut.render()).toMatch(/vivified_process_cpu_user_seconds_total\{service="policy"\} \d/);
  });

  it('keeps registries apart, so two services in one test process do not clash', async () => {
    const first = new ServiceMetrics({ service: 'a', processMetrics: false });
    const second = new ServiceMetrics({ service: 'b', processMetrics: false });

    first.setReady(true);

    expect(await second.render()).toContain('vivified_service_ready{service="b"} 0');
  });
});
