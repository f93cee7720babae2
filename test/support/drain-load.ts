/**
 * Bursts of concurrent calls for the drain tests: each call's outcome is its status (200,
 * "OK") or the error it ended with (ECONNRESET, UNAVAILABLE, ...), never a rejection, so a
 * test can count how many of N were answered.
 */
import http from "node:http";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import {
  CheckRestorableRequestSchema,
  CheckRestorableResponseSchema,
  ResourceService,
} from "../../gen/csbs/v1/resource_service_pb.js";
import { demoCases } from "./demo-cases.js";
import { restoreBody, restoreMessage } from "./demo-requests.js";
import { callUnary } from "./grpc-client.js";

/** `entries` restore entries, cycling through the demo cases. */
export function restoreEntries(entries: number) {
  return Array.from({ length: entries }, (_, i) => demoCases.restore[i % demoCases.restore.length]!.request);
}

export interface Burst<T> {
  /** Every call's outcome, in order. */
  results: Promise<T[]>;
  /** Resolves at the first answer: the server is busy with the first calls, the rest wait. */
  first: Promise<void>;
  /** How many were answered so far. */
  answered(): number;
}

function track<T>(calls: Promise<T>[]): Burst<T> {
  let answered = 0;
  const first = Promise.race(calls).then(() => undefined);
  for (const c of calls) void c.then(() => answered++);
  return { results: Promise.all(calls), first, answered: () => answered };
}

/**
 * `count` REST check_restorable calls of `entries` entries, each on its own new connection
 * (`agent: false`).
 */
export function restBurst(port: number, token: string, count = 100, entries = 100): Burst<number | string> {
  const body = Buffer.from(JSON.stringify(restoreBody(restoreEntries(entries))));
  const calls = Array.from(
    { length: count },
    () =>
      new Promise<number | string>((resolve) => {
        const req = http.request({
          host: "127.0.0.1",
          port,
          method: "POST",
          path: `/v1/${demoCases.project_id}/providers/${demoCases.provider_id}/resources/action`,
          headers: { "content-type": "application/json", "content-length": body.length, "x-auth-token": token },
          agent: false,
        });
        req.once("response", (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.once("end", () => {
            const ok =
              res.statusCode === 200 &&
              (JSON.parse(Buffer.concat(chunks).toString()) as { restorable: unknown[] }).restorable.length === entries;
            resolve(ok ? 200 : (res.statusCode ?? 0));
          });
          res.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        });
        req.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        req.end(body);
      }),
  );
  return track(calls);
}

/** `count` gRPC CheckRestorable calls (grpc-js) spread over `connections` connections. */
export async function grpcBurst(port: number, token: string, count = 100, connections = 4, entries = 100) {
  // A local subchannel pool per client: one HTTP/2 connection each.
  const clients = Array.from(
    { length: connections },
    () =>
      new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }),
  );
  await Promise.all(
    clients.map(
      (c) => new Promise<void>((ok, fail) => c.waitForReady(Date.now() + 10_000, (e) => (e ? fail(e) : ok()))),
    ),
  );
  const message = restoreMessage(restoreEntries(entries));
  const calls = Array.from({ length: count }, (_, i) =>
    callUnary(
      clients[i % connections]!,
      "/csbs.v1.ResourceService/CheckRestorable",
      CheckRestorableRequestSchema,
      CheckRestorableResponseSchema,
      message,
      { token },
    ).then(
      (res) => (res.restorable.length === entries ? "OK" : "short answer"),
      (err: grpc.ServiceError) => grpc.status[err.code] ?? String(err.code),
    ),
  );
  const burst = track(calls);
  return {
    ...burst,
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

/** `count` Connect (HTTP/1.1) CheckRestorable calls on the HTTP port. */
export function connectBurst(port: number, token: string, count = 100, entries = 100): Burst<string> {
  const client = createClient(
    ResourceService,
    createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }),
  );
  const message = restoreMessage(restoreEntries(entries));
  const calls = Array.from({ length: count }, () =>
    client.checkRestorable(message, { headers: { "x-auth-token": token } }).then(
      (res) => (res.restorable.length === entries ? "OK" : "short answer"),
      (err: Error) => `${(err as { code?: unknown }).code ?? ""} ${err.message}`,
    ),
  );
  return track(calls);
}

/** Counts of each outcome, for a readable failure message: `{ "200": 84, ECONNRESET: 16 }`. */
export function tally(results: readonly (number | string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[String(r)] = (counts[String(r)] ?? 0) + 1;
  return counts;
}
