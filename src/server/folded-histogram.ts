import type { Metric, Registry } from "prom-client";

/** One labelled series of a FoldedHistogram: what the hot path holds and observes into. */
export interface HistogramSeries {
  observe(value: number): void;
}

export interface FoldedHistogramOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Upper bounds, ascending (`+Inf` is added). */
  buckets: readonly number[];
  registry: Registry;
}

export interface FoldedHistogram<L extends string> {
  /** The series of these labels, made on first use: keep it, and observe into it per call. */
  series(labels: Readonly<Record<L, string>>): HistogramSeries;
}

interface Series extends HistogramSeries {
  labels: Readonly<Record<string, string>>;
  /** Observations per bucket (not cumulative); the last one is `+Inf`. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram counted in plain numbers per series and handed to prom-client's
 * registry only when scraped: the exposition is prom-client's own (`_bucket` with cumulative
 * `le` counts and `+Inf`, `_sum`, `_count`), from a metric registered with `get()`, as
 * prom-client's Histogram is. Its `observe(labels, value)` validates and hashes the label set
 * on every call; a series kept by the caller finds its bucket and adds, nothing else.
 */
export function createFoldedHistogram<L extends string>(options: FoldedHistogramOptions<L>): FoldedHistogram<L> {
  const { name, help, labelNames, buckets } = options;
  // The series by their label values, in the order they were made (the exposition's order).
  const bySet = new Map<string, Series>();

  function observe(this: Series, value: number): void {
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  // The values as prom-client's Histogram gives them to the registry: each bucket's `le` as its
  // own label and the series' labels as shared ones (so `le` is written first), a null exemplar
  // on buckets; `get()` merges the two, as prom-client's does.
  const values = () =>
    [...bySet.values()].flatMap((s) => {
      let cumulative = 0;
      const out: Array<{
        labels: Record<string, string | number>;
        sharedLabels: Readonly<Record<string, string>>;
        value: number;
        metricName: string;
        exemplar?: null;
      }> = s.counts.map((n, i) => {
        cumulative += n;
        return {
          labels: { le: i < buckets.length ? buckets[i]! : "+Inf" },
          sharedLabels: s.labels,
          value: cumulative,
          metricName: `${name}_bucket`,
          exemplar: null,
        };
      });
      out.push(
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${name}_count` },
      );
      return out;
    });
  const exported = (splay: boolean) => ({
    name,
    help,
    type: "histogram" as const,
    aggregator: "sum" as const,
    values: splay
      ? values().map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }))
      : values(),
  });
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    getForPromString: async () => exported(false),
    get: async () => exported(true),
    reset() {
      for (const s of bySet.values()) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      }
    },
  };
  options.registry.registerMetric(metric as unknown as Metric);

  return {
    series(labels) {
      const key = labelNames.map((n) => labels[n]).join("\u0000");
      let found = bySet.get(key);
      if (found === undefined) {
        found = {
          labels: Object.fromEntries(labelNames.map((n) => [n, labels[n]])),
          counts: new Array<number>(buckets.length + 1).fill(0),
          sum: 0,
          count: 0,
          observe,
        };
        bySet.set(key, found);
      }
      return found;
    },
  };
}
