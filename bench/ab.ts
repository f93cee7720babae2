/**
 * A/B: this checkout's service against another built checkout's, side by side in one run.
 *
 *   npm run bench:ab -- --base ../other-checkout [--this DIR] [--rounds 5] [--duration 5]
 *   npm run bench:ab -- --base . --this-flags="--max-old-space-size=96 --max-semi-space-size=32"
 *
 * (`--base-flags` / `--this-flags`: each side's Node flags; default: those of npm start.)
 * `--base` is a checkout of an earlier commit that has been built (`npx tsc -p
 * tsconfig.build.json` there, with its own node_modules). Both services run at once on the
 * same demo inventory (this checkout's data/demo-inventory.json, imported into a fresh SQLite
 * file each), pinned to the server core; the load (wrk, h2load) is pinned to the other core.
 * Each round loads every (service, path, case) once, in an order that alternates between
 * rounds, so drift of the machine hits both sides alike. Reported per scenario: requests/s
 * and server CPU per request of each side (medians over rounds) and the paired ratio
 * (this ÷ base, per round, then the median). Results: bench/results/ab-<UTC start>Z.json.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../scripts/lib/free-port.js";
import { GRPC_CONNECTIONS, GRPC_STREAMS, HTTP_CONNECTIONS, SECRET } from "./lib/context.js";
import {
  DEMO_INVENTORY,
  DEMO_PROJECT,
  DEMO_PROVIDER,
  FAILING,
  GRPC_PATH,
  REST_PATH,
  RESTORABLE,
  requestBinary,
  restBody,
} from "./lib/fixtures.js";
import { type LoadResult, pickTools, runLoad, type Target } from "./lib/loadgen.js";
import { commitOf, machine } from "./lib/machine.js";
import { ROOT } from "./lib/paths.js";
import { canPin, cpuSeconds, type Proc, pinSelf, start, stop, waitHttp } from "./lib/procs.js";
import { fmt, spread } from "./lib/stats.js";
import { tokens } from "./lib/targets.js";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    this: { type: "string" },
    "base-flags": { type: "string", default: "--max-old-space-size=96" },
    "this-flags": { type: "string", default: "--max-old-space-size=96" },
    // NAME=VALUE, repeatable: the side's service environment over the defaults below
    // (e.g. --this-env LOG_LEVEL=warn measures what the access log costs).
    "base-env": { type: "string", multiple: true, default: [] },
    "this-env": { type: "string", multiple: true, default: [] },
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
  },
});
if (!values.base) {
  console.error("usage: npm run bench:ab -- --base <built checkout> [--rounds N] [--duration S]");
  process.exit(2);
}
const rounds = Number(values.rounds);
const duration = Number(values.duration);
const warmup = Number(values.warmup);
const pinned = canPin();
const [serverCore, loadCore] = pinned ? [0, 1] : [undefined, undefined];
if (loadCore !== undefined) pinSelf(loadCore);
const tools = pickTools("auto");
const began = new Date();
const tmp = join(ROOT, "bench", ".cache", `ab-${process.pid}`);
mkdirSync(tmp, { recursive: true });

interface Side {
  name: "this" | "base";
  dir: string;
  proc: Proc;
  httpPort: number;
  grpcPort: number;
}

/** NAME=VALUE pairs of --base-env / --this-env. */
function envOf(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf("=");
      if (at <= 0) throw new Error(`ab: expected NAME=VALUE, got ${JSON.stringify(p)}`);
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
}

async function startSide(name: Side["name"], dir: string, flags: string, env: Record<string, string>): Promise<Side> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  // The bundle where the checkout has one (npm run build since it was introduced), else main.js.
  const bundle = join(dir, "dist/server.mjs");
  const entry = existsSync(bundle) ? bundle : join(dir, "dist/src/server/main.js");
  const proc = start(process.execPath, [...flags.split(/\s+/).filter(Boolean), entry], {
    core: serverCore,
    cwd: dir,
    env: {
      HTTP_PORT: String(httpPort),
      GRPC_PORT: String(grpcPort),
      HOST: "127.0.0.1",
      DATABASE_URL: join(tmp, `${name}.db`),
      INVENTORY_FILE: DEMO_INVENTORY,
      AUTH_JWT_SECRET: SECRET,
      LOG_LEVEL: "info",
      ...env,
    },
    stdoutFile: join(tmp, `${name}.log`),
  });
  await waitHttp(`http://127.0.0.1:${httpPort}/readyz`, proc);
  return { name, dir, proc, httpPort, grpcPort };
}

const token = (await tokens()).demo;

const cases = { restorable: RESTORABLE, failing: FAILING } as const;
type CaseName = keyof typeof cases;
type Path = "rest" | "grpc";

function target(side: Side, path: Path, c: CaseName): Target {
  const entries = [cases[c].request];
  return path === "rest"
    ? {
        kind: "http",
        url: `http://127.0.0.1:${side.httpPort}${REST_PATH(DEMO_PROJECT, DEMO_PROVIDER)}`,
        headers: { "content-type": "application/json", "x-auth-token": token },
        bodies: [restBody(entries)],
        connections: HTTP_CONNECTIONS,
      }
    : {
        kind: "grpc",
        port: side.grpcPort,
        path: GRPC_PATH,
        token,
        message: requestBinary(DEMO_PROJECT, DEMO_PROVIDER, entries),
        connections: GRPC_CONNECTIONS,
        streams: GRPC_STREAMS,
      };
}

async function measure(side: Side, t: Target): Promise<{ load: LoadResult; cpuMsPerRequest: number }> {
  if (warmup > 0) await runLoad(tools, t, warmup, loadCore);
  const cpu0 = cpuSeconds(side.proc.pid) ?? 0;
  const load = await runLoad(tools, t, duration, loadCore);
  const cpu = (cpuSeconds(side.proc.pid) ?? 0) - cpu0;
  if (load.errors > 0) throw new Error(`ab: ${side.name} answered ${load.errors} errors`);
  return { load, cpuMsPerRequest: (cpu * 1000) / load.requests };
}

const env = { base: envOf(values["base-env"]), this: envOf(values["this-env"]) };
const base = await startSide("base", resolve(values.base), values["base-flags"], env.base);
const self = await startSide("this", values.this ? resolve(values.this) : ROOT, values["this-flags"], env.this);
const scenarios: Array<{ path: Path; c: CaseName }> = [
  { path: "rest", c: "restorable" },
  { path: "rest", c: "failing" },
  { path: "grpc", c: "restorable" },
  { path: "grpc", c: "failing" },
];
type Row = { rps: number[]; cpu: number[] };
const results = new Map<string, { this: Row; base: Row }>();
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [base, self] : [self, base];
    for (const s of scenarios) {
      const key = `${s.path} ${s.c}`;
      const entry = results.get(key) ?? { this: { rps: [], cpu: [] }, base: { rps: [], cpu: [] } };
      results.set(key, entry);
      for (const side of order) {
        const m = await measure(side, target(side, s.path, s.c));
        entry[side.name].rps.push(m.load.rps);
        entry[side.name].cpu.push(m.cpuMsPerRequest);
        console.log(
          `[ab] round ${r + 1}/${rounds} ${key.padEnd(16)} ${side.name.padEnd(4)} ${fmt(m.load.rps)} req/s, ${m.cpuMsPerRequest.toFixed(3)} ms CPU/req`,
        );
      }
    }
  }
} finally {
  await Promise.all([stop(base.proc), stop(self.proc)]);
}

const summary = [...results].map(([scenario, { this: t, base: b }]) => ({
  scenario,
  this_rps: spread(t.rps),
  base_rps: spread(b.rps),
  rps_ratio: spread(t.rps.map((x, i) => x / b.rps[i]!)),
  this_cpu_ms: spread(t.cpu),
  base_cpu_ms: spread(b.cpu),
  cpu_ratio: spread(t.cpu.map((x, i) => x / b.cpu[i]!)),
}));
console.log(
  "\n| scenario | base req/s | this req/s | this ÷ base (req/s) | base CPU ms/req | this CPU ms/req | this ÷ base (CPU) |",
);
console.log("|---|---|---|---|---|---|---|");
for (const s of summary) {
  const m = (x: { median: number; min: number; max: number }) => `${fmt(x.median)} (${fmt(x.min)}–${fmt(x.max)})`;
  console.log(
    `| ${s.scenario} | ${fmt(s.base_rps.median)} | ${fmt(s.this_rps.median)} | ${m(s.rps_ratio)} | ${s.base_cpu_ms.median.toFixed(3)} | ${s.this_cpu_ms.median.toFixed(3)} | ${m(s.cpu_ratio)} |`,
  );
}
const out = join(ROOT, "bench", "results", `ab-${began.toISOString().slice(0, 19).replace(/:/g, "-")}Z.json`);
writeFileSync(
  out,
  `${JSON.stringify({ began: began.toISOString(), base: resolve(values.base), this: self.dir, commits: { base: commitOf(base.dir), this: commitOf(self.dir) }, flags: { base: values["base-flags"], this: values["this-flags"] }, env, rounds, duration, machine: machine(), pinned, tools, summary }, null, 2)}\n`,
);
console.log(`\n[ab] results: ${out}`);
