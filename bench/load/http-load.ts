/**
 * HTTP load with autocannon, in its own process (the fallback when wrk is not installed).
 * argv: a JSON file {target: HttpTarget, seconds}. Prints one LoadResult JSON line.
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import type { HttpTarget, LoadResult } from "../lib/loadgen.js";

const { target, seconds } = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as {
  target: HttpTarget;
  seconds: number;
};
const url = new URL(target.url);
const bodies = target.bodies;
const result = await autocannon({
  url: url.origin,
  connections: target.connections,
  duration: seconds,
  timeout: 10,
  requests: [
    {
      method: "POST",
      path: url.pathname,
      headers: target.headers,
      setupRequest: (req) => ({ ...req, body: bodies[Math.floor(Math.random() * bodies.length)]! }),
    },
  ],
});
const errors = result.errors + result.timeouts + result.non2xx;
const out: LoadResult = {
  tool: "autocannon",
  requests: result.requests.total,
  seconds: result.duration,
  rps: result.requests.total / result.duration,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  errors,
};
console.log(JSON.stringify(out));
