/**
 * A private throwaway PostgreSQL cluster for the two-instance scenario, from the one launcher
 * of tests, bench and CI (scripts/lib/postgres-cluster.ts); durable settings (fsync on), as a
 * real server, with room for two services' pools. stop() removes everything.
 */
import { execFileSync } from "node:child_process";
import { postgresBinDir, startPostgresCluster } from "../../scripts/lib/postgres-cluster.js";
import { which } from "./procs.js";

export interface Cluster {
  url: string;
  /** The postmaster's pid (to pin it and its children). */
  pid: number;
  stop(): void;
}

export async function startCluster(core: number | undefined): Promise<Cluster | undefined> {
  if (!postgresBinDir()) return undefined;
  const cluster = await startPostgresCluster({ settings: { max_connections: 100, shared_buffers: "256MB" } });
  try {
    const url = await cluster.createDatabase("bench");
    const pid = cluster.pid()!;
    if (core !== undefined && which("taskset")) {
      // Pin the postmaster and every backend it has forked so far; later backends inherit it.
      const pids = execFileSync("sh", ["-c", `echo ${pid}; pgrep -P ${pid} || true`], { encoding: "utf8" })
        .split(/\s+/)
        .filter(Boolean);
      for (const p of pids) execFileSync("taskset", ["-a", "-cp", String(core), p], { stdio: "ignore" });
    }
    return { url, pid, stop: cluster.destroy };
  } catch (error) {
    cluster.destroy();
    throw error;
  }
}
