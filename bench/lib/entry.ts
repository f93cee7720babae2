import { existsSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type BenchOptions, parseBenchArgs } from "./args.js";
import { type BenchContext, createBenchContext } from "./context.js";
import { pickTools, type Tools } from "./loadgen.js";
import { DIST } from "./paths.js";
import { pinSelf } from "./procs.js";

/**
 * Runs a bench entry: parses the command line, pins this process to the load core, picks the
 * load generators, runs `body`, then exits 0 (1 with the message on a failure).
 */
export async function runBenchEntry(
  body: (ctx: BenchContext, tools: Tools) => Promise<void>,
  overrides: Partial<BenchOptions> = {},
): Promise<never> {
  try {
    const ctx = createBenchContext({ ...parseBenchArgs(process.argv.slice(2)), ...overrides });
    if (!existsSync(DIST)) throw new Error("bench: dist/ is missing; run `npm run bench` (it builds first)");
    pinSelf(ctx.loadCore ?? 0);
    await body(ctx, pickTools(ctx.opts.loadgen));
    rmSync(ctx.logs, { recursive: true, force: true });
    await sleep(0);
    process.exit(0);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
