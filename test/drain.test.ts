/**
 * Drain, then stop, losing nothing: the real service in its own process, real sockets, a
 * burst of calls, SIGTERM while the first are still being processed. Every call that
 * reached the process is answered, and the process exits 0.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mintToken } from "../src/auth/mint-token.js";
import { type ChildServer, startChildServer } from "./support/child-server.js";
import { demoCases } from "./support/demo-cases.js";
import { connectBurst, grpcBurst, restBurst, tally } from "./support/drain-load.js";
import { TEST_SECRET } from "./support/test-server.js";

const N = 100;
let server: ChildServer | undefined;

afterEach(async () => {
  await server?.kill();
  server = undefined;
});

const token = () => mintToken({ secret: TEST_SECRET, projectId: demoCases.project_id, ttl: "5m" });

describe("SIGTERM under load", () => {
  it(`REST: ${N} calls of 100 entries, each on a new connection, SIGTERM at the first answer → ${N} × 200, exit 0`, async () => {
    server = await startChildServer({ SHUTDOWN_TIMEOUT_MS: "20000" });
    const burst = restBurst(server.httpPort, await token(), N, 100);
    await burst.first;
    const before = burst.answered();
    server.child.kill("SIGTERM");
    const results = await burst.results;
    console.info(`drain REST: ${before} answered before SIGTERM; after: ${JSON.stringify(tally(results))}`);
    expect(tally(results)).toEqual({ 200: N });
    expect(await server.exited).toBe(0);
  }, 60_000);

  it(`gRPC: ${N} calls over 4 connections, SIGTERM at the first answer → ${N} × OK, exit 0`, async () => {
    server = await startChildServer({ SHUTDOWN_TIMEOUT_MS: "20000" });
    const burst = await grpcBurst(server.grpcPort, await token(), N, 4, 100);
    await burst.first;
    server.child.kill("SIGTERM");
    const results = await burst.results;
    burst.close();
    console.info(`drain gRPC: ${JSON.stringify(tally(results))}`);
    expect(tally(results)).toEqual({ OK: N });
    expect(await server.exited).toBe(0);
  }, 60_000);

  it(`Connect: ${N} calls, SIGTERM at the first answer → ${N} × OK, exit 0`, async () => {
    server = await startChildServer({ SHUTDOWN_TIMEOUT_MS: "20000" });
    const burst = connectBurst(server.httpPort, await token(), N, 100);
    await burst.first;
    server.child.kill("SIGTERM");
    const results = await burst.results;
    console.info(`drain Connect: ${JSON.stringify(tally(results))}`);
    expect(tally(results)).toEqual({ OK: N });
    expect(await server.exited).toBe(0);
  }, 60_000);
});
