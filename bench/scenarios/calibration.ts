import type { BenchContext } from "../lib/context.js";
import type { Target, Tools } from "../lib/loadgen.js";
import { measure, type Scenario } from "../lib/measure.js";
import { stop } from "../lib/procs.js";
import type { RunRecord } from "../lib/report.js";
import { startCeiling } from "../lib/servers.js";

export type Calibration = { tool: string; scenario: string; record: RunRecord }[];

/**
 * Load generator cost: the Node fallbacks (autocannon, grpc-js) once against fresh ceilings,
 * for comparison with wrk/h2load. `ceilings` are the rest-ceiling and grpc-ceiling scenarios.
 */
export async function calibrateLoadgen(
  ctx: BenchContext,
  ceilings: readonly [Scenario, Scenario],
): Promise<Calibration> {
  ctx.log("load generator cost: the Node fallbacks against the ceilings, once ...");
  const calibration: Calibration = [];
  const node: Tools = { http: "autocannon", grpc: "grpc-js" };
  const rc = await startCeiling(ctx, "rest");
  const gc = await startCeiling(ctx, "grpc");
  for (const [s, server] of [
    [ceilings[0], rc],
    [ceilings[1], gc],
  ] as const) {
    const t = s.target as Target;
    const target: Target =
      t.kind === "http"
        ? { ...t, url: t.url.replace(/:\d+\//, `:${server.httpPort}/`) }
        : { ...t, port: server.grpcPort };
    const record = await measure(ctx, node, { ...s, server, target }, ctx.opts.seconds, ctx.opts.warmup);
    calibration.push({ tool: record.tool, scenario: s.id, record });
    ctx.log(
      `  ${s.id} with ${record.tool}: ${Math.round(record.rps)} req/s, load cpu ${(record.loadgenCpuShare * 100).toFixed(0)}%`,
    );
  }
  await stop(rc.proc);
  await stop(gc.proc);
  return calibration;
}
