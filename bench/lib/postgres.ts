/**
 * A private throwaway PostgreSQL cluster for the two-instance scenario, from the one launcher
 * of tests, bench and CI (scripts/lib/postgres-cluster.ts); durable settings (fsync on), as a
 * real server, with room for two services' pools. stop() removes everything.
 */
import { execFileSync } from "node:child_process";
import { postgresBinDir, startPostgresCluster } from "../../scripts/lib/postgres-cluster.js";
import { cpuSeconds, which } from "./procs.js";

/**
 * CPU seconds used so far by a PostgreSQL cluster: the postmaster and its children (the
 * backends of the service's pooled connections, which live through a run, and the
 * background processes). A backend that exits takes its CPU time with it.
 */
export function clusterCpuSeconds(postmaster: number): number {
  const children = execFileSync("sh", ["-c", `pgrep -P ${postmaster} || true`], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map(Number);
  return [postmaster, ...children].reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

export interface Cluster {
  url: string;
  /** Creates another database in the cluster; its URL. */
  createDatabase(name: string): Promise<string>;
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
    return { url, pid, createDatabase: (name) => cluster.createDatabase(name), stop: cluster.destroy };
  } catch (error) {
    cluster.destroy();
    throw error;
  }
}
