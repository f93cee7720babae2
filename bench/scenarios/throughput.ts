import { GRPC_CONNECTIONS, GRPC_STREAMS, HTTP_CONNECTIONS } from "../lib/context.js";
import { DEMO_PROJECT, DEMO_PROVIDER, FAILING, GRPC_PATH, RESTORABLE, requestJson, restBody } from "../lib/fixtures.js";
import { BENCH_PROJECT, restoreBodies } from "../lib/inventory.js";
import type { Scenario } from "../lib/measure.js";
import { CACHE_OFF_LABEL, type Server } from "../lib/servers.js";
import { grpcTarget, restTarget } from "../lib/targets.js";
import { allRestorable, expectOf } from "../lib/validate.js";

export interface ThroughputServers {
  restCeiling: Server;
  grpcCeiling: Server;
  /** The service on the demo inventory. */
  demo: Server;
  /** The service on the small and on the large generated database, its SQLite cache off (STORE_CACHE_OFF). */
  small: Server;
  large: Server;
}

const sizeLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));

/**
 * The measured scenarios: the two ceilings, the REST gateway, gRPC and Connect on the demo
 * data (the shipped default: SQLite cache on), then batches of 1, 10 and 100 entries on the
 * generated databases (cache off: the database path at scale). Smoke runs keep one
 * scenario of every kind (each load generator, protocol, database and batch path).
 */
export function throughputScenarios(
  servers: ThroughputServers,
  sizes: { small: number; large: number },
  token: { demo: string; bench: string },
  smoke: boolean,
): Scenario[] {
  const { restCeiling, grpcCeiling, demo } = servers;
  const restorable = restBody([RESTORABLE.request]);
  const failing = restBody([FAILING.request]);
  const pool = (total: number, entries: number) =>
    restoreBodies(total, entries, entries === 1 ? 2000 : entries === 10 ? 500 : 100).map(restBody);
  const S = sizeLabel(sizes.small);
  const L = sizeLabel(sizes.large);

  const scenarios: Scenario[] = [
    {
      id: "rest-ceiling",
      group: "ceiling",
      title: "REST ceiling: bare Express 5 route, same JSON body, canned answer",
      server: restCeiling,
      target: restTarget(restCeiling.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "grpc-ceiling",
      group: "ceiling",
      title: "gRPC ceiling: bare grpc-js unary, same message sizes",
      server: grpcCeiling,
      target: grpcTarget(grpcCeiling.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request]),
      entries: 1,
      concurrency: GRPC_CONNECTIONS * GRPC_STREAMS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "gateway-restorable",
      group: "gateway",
      title: "REST gateway, 1 entry, restorable (demo data)",
      server: demo,
      target: restTarget(demo.httpPort, DEMO_PROJECT, token.demo, [restorable], HTTP_CONNECTIONS),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "gateway-failing",
      group: "gateway",
      title: "REST gateway, 1 entry, failing at rule 18 (all rules run)",
      server: demo,
      target: restTarget(demo.httpPort, DEMO_PROJECT, token.demo, [failing], HTTP_CONNECTIONS),
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([FAILING]),
    },
    {
      id: "grpc-restorable",
      group: "grpc",
      title: "gRPC CheckRestorable (grpc-js host), 1 entry, restorable",
      server: demo,
      target: grpcTarget(demo.grpcPort, DEMO_PROJECT, token.demo, [RESTORABLE.request]),
      entries: 1,
      concurrency: GRPC_CONNECTIONS * GRPC_STREAMS,
      expect: expectOf([RESTORABLE]),
    },
    {
      id: "grpc-failing",
      group: "grpc",
      title: "gRPC CheckRestorable, 1 entry, failing at rule 18",
      server: demo,
      target: grpcTarget(demo.grpcPort, DEMO_PROJECT, token.demo, [FAILING.request]),
      entries: 1,
      concurrency: GRPC_CONNECTIONS * GRPC_STREAMS,
      expect: expectOf([FAILING]),
    },
    {
      id: "connect-http1",
      group: "grpc",
      title: "Connect protocol (JSON) over HTTP/1.1 on the HTTP port, 1 entry, restorable",
      server: demo,
      target: {
        kind: "http",
        url: `http://127.0.0.1:${demo.httpPort}${GRPC_PATH}`,
        headers: { "content-type": "application/json", "connect-protocol-version": "1", "x-auth-token": token.demo },
        bodies: [JSON.stringify(requestJson(DEMO_PROJECT, DEMO_PROVIDER, [RESTORABLE.request]))],
        connections: HTTP_CONNECTIONS,
      },
      entries: 1,
      concurrency: HTTP_CONNECTIONS,
      expect: expectOf([RESTORABLE]),
    },
  ];
  for (const [svc, size, label] of [
    [servers.small, sizes.small, S],
    [servers.large, sizes.large, L],
  ] as const) {
    for (const entries of [1, 10, 100]) {
      scenarios.push({
        id: `inv${label}-batch${entries}-c1`,
        group: "batch",
        title: `REST gateway, ${entries}-entry batch, ${label} items, concurrency 1, ${CACHE_OFF_LABEL}`,
        server: svc,
        target: restTarget(svc.httpPort, BENCH_PROJECT, token.bench, pool(size, entries), 1),
        entries,
        concurrency: 1,
        expect: allRestorable(entries),
      });
    }
  }
  for (const entries of [1, 10, 100]) {
    scenarios.push({
      id: `inv${S}-batch${entries}-sat`,
      group: "batch",
      title: `REST gateway, ${entries}-entry batch, ${S} items, ${HTTP_CONNECTIONS} connections, ${CACHE_OFF_LABEL}`,
      server: servers.small,
      target: restTarget(
        servers.small.httpPort,
        BENCH_PROJECT,
        token.bench,
        pool(sizes.small, entries),
        HTTP_CONNECTIONS,
      ),
      entries,
      concurrency: HTTP_CONNECTIONS,
      expect: allRestorable(entries),
    });
  }
  scenarios.push({
    id: `inv${L}-batch100-sat`,
    group: "batch",
    title: `REST gateway, 100-entry batch, ${L} items, ${HTTP_CONNECTIONS} connections, ${CACHE_OFF_LABEL}`,
    server: servers.large,
    target: restTarget(servers.large.httpPort, BENCH_PROJECT, token.bench, pool(sizes.large, 100), HTTP_CONNECTIONS),
    entries: 100,
    concurrency: HTTP_CONNECTIONS,
    expect: allRestorable(100),
  });

  if (!smoke) return scenarios;
  const keep = new Set([
    "rest-ceiling",
    "grpc-ceiling",
    "gateway-restorable",
    "grpc-failing",
    "connect-http1",
    `inv${S}-batch1-c1`,
    `inv${L}-batch1-c1`,
    `inv${L}-batch100-c1`,
    `inv${S}-batch100-sat`,
  ]);
  return scenarios.filter((x) => keep.has(x.id));
}
