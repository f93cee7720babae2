/**
 * Load generators, each in its own process pinned to the load core: wrk (HTTP/1.1) and h2load
 * (gRPC over h2c) when installed, else the Node fallbacks in bench/load (autocannon; a grpc-js
 * client). Every run reports requests/s and client-side p50/p99.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dist } from "./paths.js";
import { run, which } from "./procs.js";

export interface HttpTarget {
  kind: "http";
  url: string;
  headers: Record<string, string>;
  /** Request bodies; each request picks one at random. */
  bodies: string[];
  connections: number;
}

export interface GrpcTarget {
  kind: "grpc";
  port: number;
  path: string;
  token: string;
  /** The request message (protobuf bytes, not framed). */
  message: Uint8Array;
  connections: number;
  /** Concurrent streams per connection. */
  streams: number;
}

export type Target = HttpTarget | GrpcTarget;

export interface LoadResult {
  tool: string;
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Transport errors, timeouts and non-2xx answers. */
  errors: number;
}

export type LoadgenChoice = "auto" | "node";

export interface Tools {
  http: "wrk" | "autocannon";
  grpc: "h2load" | "grpc-js";
}

export function pickTools(choice: LoadgenChoice): Tools {
  return {
    http: choice === "auto" && which("wrk") ? "wrk" : "autocannon",
    grpc: choice === "auto" && which("h2load") ? "h2load" : "grpc-js",
  };
}

let scratch: string | undefined;
let fileNo = 0;
/** A new file name in a scratch directory made on first use and removed when the process exits. */
function scratchFile(name: string): string {
  if (scratch === undefined) {
    const dir = mkdtempSync(join(tmpdir(), "restorability-bench-load-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return join(scratch, `${++fileNo}-${name}`);
}

/** Lua long-bracket string that cannot be closed by the content. */
function luaString(text: string): string {
  let level = 1;
  while (text.includes(`]${"=".repeat(level)}]`)) level++;
  const eq = "=".repeat(level);
  return `[${eq}[${text}]${eq}]`;
}

function wrkScript(target: HttpTarget): string {
  const headers = Object.entries(target.headers)
    .map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`)
    .join("\n");
  const single = target.bodies.length === 1;
  return `wrk.method = "POST"
${headers}
${
  single
    ? `wrk.body = ${luaString(target.bodies[0]!)}`
    : `local bodies = {\n${target.bodies.map(luaString).join(",\n")}\n}
local n = #bodies
request = function() return wrk.format(nil, nil, nil, bodies[math.random(n)]) end`
}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

async function runWrk(target: HttpTarget, seconds: number, core: number | undefined, onPid: (pid: number) => void) {
  const script = scratchFile("load.lua");
  writeFileSync(script, wrkScript(target));
  const out = await run(
    "wrk",
    [
      "-t1",
      `-c${target.connections}`,
      `-d${Math.max(1, Math.round(seconds))}s`,
      "--timeout",
      "10s",
      "-s",
      script,
      target.url,
    ],
    { core, onPid },
  );
  const line = out.split("\n").find((l) => l.startsWith("BENCH "));
  if (!line) throw new Error(`bench: wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice(6)) as Record<string, number>;
  const secs = r.duration_us! / 1e6;
  return {
    tool: "wrk",
    requests: r.requests!,
    seconds: secs,
    rps: r.requests! / secs,
    p50Ms: r.p50_us! / 1000,
    p99Ms: r.p99_us! / 1000,
    errors: r.errors!,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function runH2load(target: GrpcTarget, seconds: number, core: number | undefined, onPid: (pid: number) => void) {
  const body = scratchFile("request.grpc");
  const frame = Buffer.alloc(5 + target.message.length);
  frame.writeUInt32BE(target.message.length, 1);
  frame.set(target.message, 5);
  writeFileSync(body, frame);
  const log = scratchFile("h2load.log");
  const out = await run(
    "h2load",
    [
      "-t1",
      `-c${target.connections}`,
      `-m${target.streams}`,
      `-D${Math.max(1, Math.round(seconds * 1000))}ms`,
      "-d",
      body,
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      "-H",
      `x-auth-token: ${target.token}`,
      "--log-file",
      log,
      `http://127.0.0.1:${target.port}${target.path}`,
    ],
    { core, onPid },
  );
  // "finished in 5.00s" or, under a second, "finished in 999.98ms".
  const finished = /finished in ([\d.]+)(ms|s),/.exec(out);
  const requests =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      out,
    );
  if (!finished || !requests) throw new Error(`bench: h2load output not understood:\n${out}`);
  const lines = readFileSync(log, "utf8").split("\n");
  rmSync(log, { force: true });
  rmSync(body, { force: true });
  const durations: number[] = [];
  let ok = 0;
  for (const line of lines) {
    const [, status, us] = line.split("\t");
    if (status === undefined || us === undefined) continue;
    if (status === "200") ok++;
    durations.push(Number(us) / 1000);
  }
  const sorted = Float64Array.from(durations).sort();
  const secs = Number(finished[1]) / (finished[2] === "ms" ? 1000 : 1);
  return {
    tool: "h2load",
    requests: ok,
    seconds: secs,
    rps: ok / secs,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors: Number(requests[5]) + Number(requests[6]) + Number(requests[7]) + (durations.length - ok),
  };
}

/** The Node fallback loaders take their target as a JSON file. */
async function runNodeLoader(
  script: string,
  target: Target,
  seconds: number,
  core: number | undefined,
  onPid: (pid: number) => void,
): Promise<LoadResult> {
  const spec = scratchFile("target.json");
  const json = target.kind === "grpc" ? { ...target, message: Buffer.from(target.message).toString("base64") } : target;
  writeFileSync(spec, JSON.stringify({ target: json, seconds }));
  const out = await run(process.execPath, [dist("bench", "load", script), spec], { core, onPid });
  return JSON.parse(out.trim().split("\n").at(-1)!) as LoadResult;
}

/** Runs one load of `seconds` against the target; onPid gets the load process's pid. */
export function runLoad(
  tools: Tools,
  target: Target,
  seconds: number,
  core: number | undefined,
  onPid: (pid: number) => void = () => {},
): Promise<LoadResult> {
  if (target.kind === "http") {
    return tools.http === "wrk"
      ? runWrk(target, seconds, core, onPid)
      : runNodeLoader("http-load.js", target, seconds, core, onPid);
  }
  return tools.grpc === "h2load"
    ? runH2load(target, seconds, core, onPid)
    : runNodeLoader("grpc-load.js", target, seconds, core, onPid);
}
