/**
 * gRPC load with a @grpc/grpc-js client, in its own process (the fallback when h2load is not
 * installed): `connections` channels, `streams` calls in flight on each, pre-encoded request
 * bytes. argv: a JSON file {target: GrpcTarget (message as base64), seconds}. Prints one
 * LoadResult JSON line.
 */
import { readFileSync } from "node:fs";
import { createHistogram } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import type { GrpcTarget, LoadResult } from "../lib/loadgen.js";

const { target, seconds } = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as {
  target: Omit<GrpcTarget, "message"> & { message: string };
  seconds: number;
};
const message = Buffer.from(target.message, "base64");
const histogram = createHistogram();
const identity = (b: Buffer) => b;
let requests = 0;
let errors = 0;

const clients = Array.from(
  { length: target.connections },
  () =>
    new grpc.Client(`127.0.0.1:${target.port}`, grpc.credentials.createInsecure(), {
      "grpc.use_local_subchannel_pool": 1,
    }),
);
const metadata = new grpc.Metadata();
metadata.set("x-auth-token", target.token);

const startedAt = performance.now();
const endAt = startedAt + seconds * 1000;

function call(client: grpc.Client): Promise<void> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    client.makeUnaryRequest(target.path, identity, identity, message, metadata, (err) => {
      if (err) errors++;
      else {
        requests++;
        histogram.record(Number(process.hrtime.bigint() - start) || 1);
      }
      resolve();
    });
  });
}

async function worker(client: grpc.Client): Promise<void> {
  while (performance.now() < endAt) await call(client);
}

await Promise.all(clients.flatMap((client) => Array.from({ length: target.streams }, () => worker(client))));
const elapsed = (performance.now() - startedAt) / 1000;
for (const client of clients) client.close();
const out: LoadResult = {
  tool: "grpc-js",
  requests,
  seconds: elapsed,
  rps: requests / elapsed,
  p50Ms: histogram.percentile(50) / 1e6,
  p99Ms: histogram.percentile(99) / 1e6,
  errors,
};
console.log(JSON.stringify(out));
