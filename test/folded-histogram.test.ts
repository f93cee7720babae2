import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createFoldedHistogram } from "../src/server/folded-histogram.js";

/**
 * The folded histogram (src/server/folded-histogram.ts) against prom-client's own Histogram:
 * the same observations must give the same exposition text, byte for byte.
 */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const LABELS = ["protocol", "method"] as const;

function pair() {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({
    name: "x_duration_seconds",
    help: "A latency.",
    labelNames: LABELS,
    buckets: BUCKETS,
    registers: [theirs],
  });
  const folded = createFoldedHistogram({
    name: "x_duration_seconds",
    help: "A latency.",
    labelNames: LABELS,
    buckets: BUCKETS,
    registry: ours,
  });
  return { theirs, ours, reference, folded };
}

const observation = fc.record({
  protocol: fc.constantFrom("rest", "grpc", 'we"ird\\name\n'),
  method: fc.constantFrom("CheckRestorable", "CheckProtectable"),
  // Bucket bounds themselves, values between them, and beyond the last.
  value: fc.oneof(fc.constantFrom(0, ...BUCKETS, 3, 100), fc.double({ min: 0, max: 5, noNaN: true })),
});

describe("folded histogram", () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 60 }), async (observations) => {
        const { theirs, ours, reference, folded } = pair();
        for (const { protocol, method, value } of observations) {
          reference.observe({ protocol, method }, value);
          folded.series({ protocol, method }).observe(value);
        }
        expect(await ours.metrics()).toBe(await theirs.metrics());
        expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
      }),
      { numRuns: 200 },
    );
  });

  it("a kept series and a looked-up one are the same series; reset zeroes every series, as prom-client's", async () => {
    const { theirs, ours, reference, folded } = pair();
    const kept = folded.series({ protocol: "grpc", method: "CheckRestorable" });
    kept.observe(0.003);
    folded.series({ method: "CheckRestorable", protocol: "grpc" }).observe(0.2);
    reference.observe({ protocol: "grpc", method: "CheckRestorable" }, 0.003);
    reference.observe({ protocol: "grpc", method: "CheckRestorable" }, 0.2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('x_duration_seconds_count{protocol="grpc",method="CheckRestorable"} 2');
    ours.resetMetrics();
    expect(await ours.metrics()).toContain('x_duration_seconds_count{protocol="grpc",method="CheckRestorable"} 0');
    kept.observe(1);
    expect(await ours.metrics()).toContain(
      'x_duration_seconds_bucket{le="1",protocol="grpc",method="CheckRestorable"} 1',
    );
  });
});
