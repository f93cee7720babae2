/**
 * Server-side timing without touching the service: imported first by a bench server
 * process, it hooks Node's HTTP/1.1 server ("request" → response "finish") and HTTP/2
 * server ("stream" → stream "close", as grpc-js uses it) and records every request's time
 * in a histogram. The bench orchestrator reads and resets it over the IPC channel.
 */

import { writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { Session } from "node:inspector";
import { createHistogram } from "node:perf_hooks";

const histogram = createHistogram({ lowest: 1, highest: 60_000_000_000, figures: 3 });

function record(start: bigint): void {
  histogram.record(Number(process.hrtime.bigint() - start) || 1);
}

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === "request") {
    const start = process.hrtime.bigint();
    (args[1] as http.ServerResponse).once("finish", () => record(start));
  }
  return (emit as (this: http.Server, event: string | symbol, ...a: unknown[]) => boolean).call(this, event, ...args);
} as typeof emit;

const createServer = http2.createServer;
(http2 as { createServer: unknown }).createServer = (...args: unknown[]) => {
  const server = (createServer as (...a: unknown[]) => http2.Http2Server)(...args);
  server.prependListener("stream", (stream: http2.ServerHttp2Stream) => {
    const start = process.hrtime.bigint();
    stream.once("close", () => record(start));
  });
  return server;
};

export interface ServerStats {
  count: number;
  /** milliseconds */
  p50: number;
  p99: number;
  mean: number;
  max: number;
  /** process.memoryUsage() in MB, when asked. */
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
}

function stats(): ServerStats {
  const memory = process.memoryUsage();
  const ms = (ns: number) => ns / 1e6;
  return {
    count: histogram.count,
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    mean: ms(histogram.mean || 0),
    max: ms(histogram.max),
    heapTotalMb: memory.heapTotal / 2 ** 20,
    heapUsedMb: memory.heapUsed / 2 ** 20,
    externalMb: memory.external / 2 ** 20,
  };
}

/**
 * A V8 CPU profile of a time window (the sampler node --cpu-prof uses, started and stopped
 * on request so that start-up and idle time stay out of it).
 */
let session: Session | undefined;
function post(method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session!.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
  );
}
async function profile(cmd: string, path: string | undefined): Promise<void> {
  if (cmd === "profile-start") {
    session = new Session();
    session.connect();
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 200 });
    await post("Profiler.start");
    return;
  }
  if (!session) throw new Error("no profile running");
  const { profile } = (await post("Profiler.stop")) as { profile: unknown };
  session.disconnect();
  session = undefined;
  writeFileSync(path!, JSON.stringify(profile));
}

if (process.send) {
  process.on("message", (message: { cmd?: string; id?: number; arg?: string }) => {
    const { cmd, id } = message;
    if (cmd === "profile-start" || cmd === "profile-stop") {
      profile(cmd, message.arg).then(
        () => process.send?.({ id, stats: true }),
        (error: unknown) => process.send?.({ id, error: String(error) }),
      );
      return;
    }
    if (cmd === "reset") histogram.reset();
    const reply = cmd === "stats" || cmd === "reset" ? stats() : undefined;
    process.send?.({ id, stats: reply });
  });
  // The IPC channel must not keep the process alive on its own.
  process.channel?.unref();
}

// A clean exit on SIGTERM (so that --cpu-prof writes its profile), unless the process
// handles SIGTERM itself (the service drains first).
setImmediate(() => {
  if (process.listenerCount("SIGTERM") === 0) process.once("SIGTERM", () => process.exit(0));
});
