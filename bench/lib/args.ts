import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LoadgenChoice } from "./loadgen.js";
import { ROOT } from "./paths.js";

export const USAGE = `npm run bench [-- --smoke] [--runs N] [--duration S] [--warmup S] [--loadgen auto|node] [--fresh-db]
               [--profile] [--pg|--no-pg] [--node-options "..."] [--out DIR]
npm run bench:profile [-- --duration S] [--warmup S] [--loadgen auto|node]`;

export interface BenchOptions {
  smoke: boolean;
  runs: number;
  seconds: number;
  warmup: number;
  loadgen: LoadgenChoice;
  freshDb: boolean;
  /** CPU profiles under load instead of the measured runs (bench/profile.ts). */
  profile: boolean;
  /** PostgreSQL one vs two instances: default on in full runs, off in smoke runs. */
  pg: boolean;
  out: string | undefined;
  /** NODE_OPTIONS for the service processes (e.g. "--max-old-space-size=64"), to measure a deployment setting. */
  nodeOptions: string | undefined;
}

/** The bench's command line (node:util parseArgs; unknown options are an error). */
export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: "boolean", default: false },
      runs: { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      loadgen: { type: "string", default: "auto" },
      "fresh-db": { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      pg: { type: "boolean" },
      "no-pg": { type: "boolean" },
      out: { type: "string" },
      "node-options": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  const smoke = values.smoke;
  const number = (value: string | undefined, full: number, short: number) =>
    value === undefined ? (smoke ? short : full) : Number(value);
  const opts: BenchOptions = {
    smoke,
    runs: number(values.runs, 3, 1),
    seconds: number(values.duration, 5, 1),
    warmup: number(values.warmup, 1, 0),
    loadgen: values.loadgen === "node" ? "node" : "auto",
    freshDb: values["fresh-db"],
    profile: values.profile,
    pg: values["no-pg"] ? false : (values.pg ?? !smoke),
    out: values.out,
    nodeOptions: values["node-options"] ?? startCommandNodeFlags(),
  };
  if (!(opts.runs >= 1) || !(opts.seconds > 0) || !(opts.warmup >= 0)) throw new Error("bench: bad --runs/--duration");
  return opts;
}

/**
 * The Node flags of the production start command (`npm start`: `node FLAGS dist/server.mjs`
 * in package.json), so that the bench measures the service as it is shipped; `--node-options`
 * overrides them.
 */
export function startCommandNodeFlags(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  const flags = /\bnode\s+((?:--\S+\s+)+)dist\/server\.mjs/.exec(pkg.scripts?.start ?? "")?.[1]?.trim();
  return flags || undefined;
}
