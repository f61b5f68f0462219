/**
 * Metric families whose label sets are looked up once and kept: a request path holds a cell and adds to
 * a number, with no label object, hash or string built per request (prom-client's own `inc(labels)` builds
 * a label key and validates the labels on every call: see bench/RESULTS.md). prom-client's Registry renders them (they
 * implement the shape its `registerMetric` takes) next to its process metrics.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

interface MetricValue {
  value: number;
  labels: Labels;
  metricName?: string;
}

interface MetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  values: MetricValue[];
}

function labelsOf(names: readonly string[], values: readonly string[]): Labels {
  if (values.length !== names.length) throw new Error(`expected labels ${names.join(', ')}, got ${values.length}`);
  const labels: Labels = {};
  for (let i = 0; i < names.length; i++) labels[names[i] as string] = values[i] as string;
  return labels;
}

/** One counter series: add to `value`. */
export class CounterCell {
  value = 0;
  constructor(readonly labels: Labels) {}

  inc(by = 1): void {
    this.value += by;
  }
}

abstract class Family<Cell> {
  readonly aggregator = 'sum' as const;
  readonly #cells = new Map<string, Cell>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series of these label values (in `labelNames` order), created on first use; keep it. */
  cell(...values: string[]): Cell {
    const key = values.join('\u0000');
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = this.create(labelsOf(this.labelNames, values));
      this.#cells.set(key, cell);
    }
    return cell;
  }

  protected cells(): IterableIterator<Cell> {
    return this.#cells.values();
  }

  protected abstract create(labels: Labels): Cell;

  /** prom-client's Registry calls this to render the family. */
  abstract get(): MetricSnapshot;

  /** prom-client calls it on `registry.resetMetrics()`. */
  reset(): void {
    this.#cells.clear();
  }
}

export class CounterFamily extends Family<CounterCell> {
  readonly type = 'counter' as const;

  protected create(labels: Labels): CounterCell {
    return new CounterCell(labels);
  }

  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    for (const cell of this.cells()) values.push({ value: cell.value, labels: cell.labels });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** One histogram series: `observe` finds the bucket (a short linear scan) and adds. */
export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts as Float64Array)[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramCell> {
  readonly type = 'histogram' as const;

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    registry: Registry,
    readonly bounds: number[],
  ) {
    super(name, help, labelNames, registry);
  }

  protected create(labels: Labels): HistogramCell {
    return new HistogramCell(labels, this.bounds);
  }

  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    for (const cell of this.cells()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i] as number;
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { ...cell.labels, le: String(this.bounds[i]) },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...cell.labels, le: '+Inf' }, value: cell.count });
      values.push({ metricName: `${this.name}_sum`, labels: cell.labels, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels: cell.labels, value: cell.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/** A value read when Prometheus scrapes: `read` lists the series (label values in order, value). */
export class ScrapedFamily {
  readonly aggregator = 'sum' as const;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    readonly labelNames: readonly string[],
    registry: Registry,
    private readonly read: () => Iterable<readonly [values: readonly string[], value: number]>,
  ) {
    registry.registerMetric(this as never);
  }

  get(): MetricSnapshot {
    const values: MetricValue[] = [];
    for (const [labelValues, value] of this.read())
      values.push({ value, labels: labelsOf(this.labelNames, labelValues) });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
