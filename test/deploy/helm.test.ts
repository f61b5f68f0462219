import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

// The chart is rendered by deploy/helm/render: Go's text/template with the sprig functions — helm's own
// engine — built from Debian's packages (golang-go, golang-github-masterminds-sprig-dev,
// golang-gopkg-yaml.v3-dev; .ci/run installs them). Without Go these tests are skipped, and say so.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'deploy/helm/aihub');
const GOPATH = '/usr/share/gocode';
const canBuild =
  spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0 &&
  existsSync(join(GOPATH, 'src/github.com/Masterminds/sprig')) &&
  existsSync(join(GOPATH, 'src/gopkg.in/yaml.v3'));
if (!canBuild) console.warn('[skipped] Helm chart tests: Go with sprig and yaml.v3 (Debian packages) is not installed');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are walked as plain data in assertions
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const SECRET_KEY = 'ab'.repeat(32);
const SCALED = {
  secrets: {
    AIHUB_SECRET_KEY: SECRET_KEY,
    DATABASE_URL: 'postgres://aihub:pw@postgres:5432/aihub',
    REDIS_URL: 'redis://redis:6379',
  },
  ingress: { enabled: true, className: 'nginx', tls: [{ secretName: 'aihub-tls', hosts: ['aihub.example.com'] }] },
  autoscaling: { enabled: true },
  serviceMonitor: { enabled: true },
};

describe.skipIf(!canBuild)('Helm chart (deploy/helm/aihub)', () => {
  let dir: string;
  let renderer: string;
  let app: TestApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aihub-helm-'));
    renderer = join(dir, 'render');
    execFileSync('go', ['build', '-o', renderer, '.'], {
      cwd: join(ROOT, 'deploy/helm/render'),
      env: { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
      stdio: 'pipe',
    });
    app = await startTestApp();
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Render with these values (over the chart's values.yaml); returns the objects, or the error text. */
  function render(values: object): { objects: K8sObject[]; error: string } {
    const file = join(dir, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, stringify(values));
    const result = spawnSync(renderer, ['-chart', CHART, '-f', file, '-name', 'prod', '-namespace', 'ai'], {
      encoding: 'utf8',
    });
    if (result.status !== 0) return { objects: [], error: result.stderr };
    const objects = parseAllDocuments(result.stdout)
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
    return { objects, error: '' };
  }
  const find = (objects: K8sObject[], kind: string) => {
    const found = objects.filter((o) => o.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0] as K8sObject;
  };
  const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
    Object.entries(selector).every(([k, v]) => labels?.[k] === v);

  it('refuses to render without a secret key, or several replicas without PostgreSQL', () => {
    expect(render({}).error).toMatch(/AIHUB_SECRET_KEY is required/);
    expect(render({ secrets: { AIHUB_SECRET_KEY: SECRET_KEY } }).error).toMatch(/needs PostgreSQL/);
  });

  it('renders a scaled-out release whose objects point at each other', async () => {
    const { objects, error } = render(SCALED);
    expect(error).toBe('');
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Ingress',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'ServiceMonitor',
    ]);
    for (const o of objects) {
      expect(o.apiVersion).toBeTruthy();
      expect(o.metadata.name).toBe('prod-aihub');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('prod');
    }
    const deployment = find(objects, 'Deployment');
    const pod = deployment.spec.template;
    expect(matches(deployment.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    // The autoscaler owns the replica count.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(find(objects, 'HorizontalPodAutoscaler').spec.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    const [container] = pod.spec.containers;
    const configMap = find(objects, 'ConfigMap');
    const secret = find(objects, 'Secret');
    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ]);
    expect(container.ports).toEqual([
      { name: 'http', containerPort: Number(configMap.data?.PORT), protocol: 'TCP' },
      { name: 'metrics', containerPort: Number(configMap.data?.AIHUB_METRICS_PORT), protocol: 'TCP' },
    ]);

    // Probes on routes the server really answers.
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    for (const path of ['/ready', '/health']) expect((await fetch(`${app.url}${path}`)).status).toBe(200);

    // A stopping pod gets longer than the hub's own shutdown timeout (drain, flush usage).
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(
      Number(configMap.data?.AIHUB_SHUTDOWN_TIMEOUT_MS),
    );
    // The image's non-root user; the root filesystem read-only with /data and /tmp writable.
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath).sort()).toEqual(['/data', '/tmp']);

    // Every variable the chart sets is one the hub reads, with a value it accepts.
    const env = { ...configMap.data, ...secret.stringData } as Record<string, string>;
    const known = new Set(CONFIG_VARIABLES.map((v) => v.name));
    for (const key of Object.keys(env)) expect(known, key).toContain(key);
    expect(() => loadConfig(env)).not.toThrow();
    expect(secret.stringData).toEqual(SCALED.secrets);

    const service = find(objects, 'Service');
    expect(matches(service.spec.selector, pod.metadata.labels)).toBe(true);
    expect(service.spec.ports[0].targetPort).toBe('http');
    const ingress = find(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['aihub.example.com'], secretName: 'aihub-tls' }]);
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({
      name: service.metadata.name,
      port: { name: 'http' },
    });
    expect(matches(find(objects, 'PodDisruptionBudget').spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    const monitor = find(objects, 'ServiceMonitor');
    expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    // Scraped on the pods' metrics port (AIHUB_METRICS_PORT), which the Service names and the Ingress never routes.
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
    const metricsPort = service.spec.ports.find((p: { name: string }) => p.name === 'metrics');
    expect(metricsPort?.targetPort).toBe('metrics');
    const podPort = container.ports.find((p: { name: string }) => p.name === 'metrics')?.containerPort;
    expect(String(podPort)).toBe(find(objects, 'ConfigMap').data?.AIHUB_METRICS_PORT);
  });

  it('rolls the pods when the configuration changes', () => {
    const checksum = (values: object) =>
      find(render(values).objects, 'Deployment').spec.template.metadata.annotations['checksum/config'];
    expect(checksum(SCALED)).not.toBe(checksum({ ...SCALED, config: { AIHUB_LOG_LEVEL: 'debug' } }));
  });

  it('runs one SQLite replica on a persistent volume, replaced (never two writers)', () => {
    const { objects, error } = render({
      replicaCount: 1,
      persistence: { enabled: true },
      secrets: { AIHUB_SECRET_KEY: SECRET_KEY },
    });
    expect(error).toBe('');
    const deployment = find(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const claim = find(objects, 'PersistentVolumeClaim');
    const data = deployment.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'data');
    expect(data.persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    // One replica: a disruption budget would block node drains.
    expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  it('uses an existing Secret instead of making one', () => {
    const { objects, error } = render({ existingSecret: 'my-aihub', replicaCount: 3 });
    expect(error).toBe('');
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    const [container] = find(objects, 'Deployment').spec.template.spec.containers;
    expect(container.envFrom[1]).toEqual({ secretRef: { name: 'my-aihub' } });
    expect(find(objects, 'Deployment').spec.replicas).toBe(3);
  });
});
