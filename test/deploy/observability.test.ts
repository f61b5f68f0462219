/**
 * The monitoring artefacts of the compose stack, checked without a container engine: Prometheus scrapes
 * every hub on the metrics port it is given, loads the alert rules, Grafana is provisioned with the data
 * source and the dashboard, and every metric a rule or a panel uses is one a running hub actually declares
 * in GET /metrics (a renamed family would otherwise leave a silent alert or an empty panel).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startTestApp, type TestApp } from '../support/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_DIR = join(ROOT, 'deploy/compose');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const TOKEN = 'deploy-test-metrics-token-0123';

interface Service {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  command?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, unknown>;
}
const compose = parseYaml(read('deploy/compose/docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const prometheus = parseYaml(read('deploy/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
};
const alerts = parseYaml(read('deploy/prometheus/alerts.yml')) as {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels?: { severity?: string } }> }>;
};
interface Panel {
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr: string; datasource?: { uid?: string } }>;
}
const dashboard = JSON.parse(read('deploy/grafana/dashboards/aihub.json')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; current?: { value?: string } }> };
};

/** Bind mounts of a service: host path (relative to the compose file) → container path. */
function mounts(service: Service | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const volume of service?.volumes ?? []) {
    const [host, container] = volume.split(':') as [string, string];
    if (host.startsWith('.')) out.set(container, join(COMPOSE_DIR, host));
  }
  return out;
}

/** The host file mounted at `containerPath` (directly, or inside a mounted directory). */
function hostFileOf(service: Service | undefined, containerPath: string): string | undefined {
  for (const [container, host] of mounts(service)) {
    if (containerPath === container) return host;
    if (containerPath.startsWith(`${container}/`)) return join(host, posix.relative(container, containerPath));
  }
  return undefined;
}

/** Metric families an expression uses (histogram series mapped to their family). */
function familiesIn(expr: string): string[] {
  const names = expr.match(/\b(aihub_[a-z_]+|process_[a-z_]+|nodejs_[a-z0-9_]+)\b/g) ?? [];
  return names.map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}

describe('Prometheus and Grafana in the compose stack', () => {
  let app: TestApp;
  let declared: Set<string>;

  beforeAll(async () => {
    app = await startTestApp({ env: { AIHUB_METRICS_TOKEN: TOKEN } });
    const res = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    declared = new Set(
      (await res.text())
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2] as string),
    );
  });
  afterAll(async () => {
    await app.close();
  });

  it('scrapes every hub instance on the metrics port it listens on, which is not published', () => {
    const hubs = Object.entries(compose.services).filter(([name]) => name.startsWith('hub'));
    expect(hubs.length).toBeGreaterThanOrEqual(2);
    const job = prometheus.scrape_configs.find((c) => c.job_name === 'aihub');
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = job?.static_configs.flatMap((c) => c.targets) ?? [];
    expect(targets.sort()).toEqual(hubs.map(([name, s]) => `${name}:${s.environment?.AIHUB_METRICS_PORT}`).sort());
    for (const [, hub] of hubs) expect(hub.ports ?? []).toEqual([]);
    // The proxy forwards the public port only to the hubs' PORT, never to the metrics port.
    expect(read('deploy/compose/Caddyfile')).not.toContain(':9464');
  });

  it('runs Prometheus with the config and the rule files mounted from deploy/prometheus', () => {
    const service = compose.services.prometheus;
    expect(service?.image).toMatch(/^prom\/prometheus:v\d/);
    const configPath = service?.command?.find((c) => c.startsWith('--config.file='))?.split('=')[1] as string;
    expect(hostFileOf(service, configPath)).toBe(join(ROOT, 'deploy/prometheus/prometheus.yml'));
    for (const rules of prometheus.rule_files) {
      const host = hostFileOf(service, rules);
      expect(host, rules).toBeDefined();
      expect(existsSync(host as string), rules).toBe(true);
    }
    // Published on loopback only: Prometheus has no authentication.
    for (const port of service?.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it('has alert rules on channel health, errors, latency, the usage writer and certificates, over real metrics', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    const names = rules.map((r) => r.alert);
    for (const expected of [
      'AIHubChannelDown',
      'AIHubHighErrorRate',
      'AIHubHighLatencyP95',
      'AIHubUsageBacklog',
      'AIHubTlsCertificateExpiresSoon',
      'AIHubTlsRenewalFailing',
    ])
      expect(names).toContain(expected);
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning|info)$/);
      for (const family of familiesIn(rule.expr)) expect(declared, `${rule.alert}: ${family}`).toContain(family);
    }
  });

  it('provisions Grafana with the Prometheus data source and the dashboard', () => {
    const service = compose.services.grafana;
    expect(service?.image).toMatch(/^grafana\/grafana:\d/);
    expect(service?.environment?.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    const datasources = parseYaml(
      readFileSync(hostFileOf(service, '/etc/grafana/provisioning/datasources/prometheus.yml') as string, 'utf8'),
    ) as { datasources: Array<{ uid: string; type: string; url: string }> };
    const source = datasources.datasources[0];
    expect(source?.type).toBe('prometheus');
    expect(new URL(source?.url as string).hostname).toBe('prometheus');
    expect(compose.services[new URL(source?.url as string).hostname]).toBeDefined();
    const providers = parseYaml(
      readFileSync(hostFileOf(service, '/etc/grafana/provisioning/dashboards/aihub.yml') as string, 'utf8'),
    ) as { providers: Array<{ options: { path: string } }> };
    const dashboards = hostFileOf(service, providers.providers[0]?.options.path as string);
    expect(dashboards).toBe(join(ROOT, 'deploy/grafana/dashboards'));
    expect(existsSync(join(dashboards as string, 'aihub.json'))).toBe(true);
    // The dashboard's data-source variable defaults to the provisioned source.
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable?.current?.value).toBe(source?.uid);
  });

  it('charts requests, errors, latency, overhead, TTFT, tokens, cost and channel health from real metrics', () => {
    const queries = dashboard.panels.flatMap((p) => p.targets ?? []);
    expect(queries.length).toBeGreaterThan(10);
    const used = new Set(queries.flatMap((q) => familiesIn(q.expr)));
    for (const family of used) expect(declared, family).toContain(family);
    for (const family of [
      'aihub_requests_total',
      'aihub_errors_total',
      'aihub_request_duration_seconds',
      'aihub_gateway_overhead_seconds',
      'aihub_time_to_first_token_seconds',
      'aihub_inter_token_latency_seconds',
      'aihub_tokens_total',
      'aihub_cost_usd_total',
      'aihub_channel_up',
      'aihub_channel_breakers',
      'aihub_upstream_requests_total',
    ])
      expect(used, family).toContain(family);
    // Grafana's variable syntax, not a template literal.
    const variable = ['$', '{datasource}'].join('');
    for (const query of queries) expect(query.datasource?.uid).toBe(variable);
  });
});
