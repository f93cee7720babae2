import { join } from "node:path";
import { freePort } from "../../scripts/lib/free-port.js";
import type { BenchContext } from "../lib/context.js";
import { dist } from "../lib/paths.js";
import { rssMb, start, stop, waitHttp } from "../lib/procs.js";
import { serviceEnv } from "../lib/servers.js";

/** Start-up to ready (GET /readyz 200) of the shipped bundle (dist/server.mjs) on `database`, `runs` times; RSS when ready. */
export async function startupTimes(
  ctx: BenchContext,
  database: string,
  runs: number,
): Promise<{ readyMs: number[]; rssMb: number[] }> {
  const readyMs: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const t0 = performance.now();
    const proc = start(process.execPath, [dist("server.mjs")], {
      core: ctx.serverCore,
      env: serviceEnv(ctx, database, httpPort, grpcPort),
      stdoutFile: join(ctx.logs, "startup.log"),
    });
    await waitHttp(`http://127.0.0.1:${httpPort}/readyz`, proc);
    readyMs.push(performance.now() - t0);
    rss.push(rssMb(proc.pid) ?? Number.NaN);
    await stop(proc);
  }
  return { readyMs, rssMb: rss };
}
