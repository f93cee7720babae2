import { mintToken } from "../../src/auth/mint-token.js";
import { GRPC_CONNECTIONS, GRPC_STREAMS, SECRET } from "./context.js";
import { DEMO_PROJECT, DEMO_PROVIDER, GRPC_PATH, REST_PATH, requestBinary } from "./fixtures.js";
import { BENCH_PROJECT, CSBS_PROVIDER_ID, type RestoreEntryJson } from "./inventory.js";
import type { Target } from "./loadgen.js";

/** Tokens for the demo project and the generated bench project. */
export async function tokens() {
  const mint = (projectId: string) => mintToken({ secret: SECRET, projectId, ttl: "6h" });
  return { demo: await mint(DEMO_PROJECT), bench: await mint(BENCH_PROJECT) };
}

/** POSTs to the REST action path, cycling through `bodies`. */
export function restTarget(
  port: number,
  projectId: string,
  token: string,
  bodies: string[],
  connections: number,
): Target {
  return {
    kind: "http",
    url: `http://127.0.0.1:${port}${REST_PATH(projectId, projectId === DEMO_PROJECT ? DEMO_PROVIDER : CSBS_PROVIDER_ID)}`,
    headers: { "content-type": "application/json", "x-auth-token": token },
    bodies,
    connections,
  };
}

/** gRPC CheckRestorable calls of one message (concurrency 1: one connection, one stream). */
export function grpcTarget(
  port: number,
  projectId: string,
  token: string,
  entries: RestoreEntryJson[],
  concurrency?: number,
): Target {
  return {
    kind: "grpc",
    port,
    path: GRPC_PATH,
    token,
    message: requestBinary(projectId, DEMO_PROVIDER, entries),
    connections: concurrency === 1 ? 1 : GRPC_CONNECTIONS,
    streams: concurrency === 1 ? 1 : GRPC_STREAMS,
  };
}
