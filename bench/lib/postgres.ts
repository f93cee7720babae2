/**
 * A private throwaway PostgreSQL cluster for the two-instance scenario (as .ci/postgres.sh
 * does): initdb into a temporary directory, pg_ctl start on a free port on 127.0.0.1, as the
 * postgres user when running as root. stop() removes everything.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, which } from "./procs.js";

function findBin(): string | undefined {
  const initdb = which("initdb");
  if (initdb && which("pg_ctl"))
    return join(execFileSync("readlink", ["-f", initdb], { encoding: "utf8" }).trim(), "..");
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  for (const version of readdirSync(base).sort().reverse()) {
    const bin = join(base, version, "bin");
    if (existsSync(join(bin, "initdb"))) return bin;
  }
  return undefined;
}

export interface Cluster {
  url: string;
  /** The postmaster's pid (to pin it and its children). */
  pid: number;
  stop(): void;
}

export async function startCluster(core: number | undefined): Promise<Cluster | undefined> {
  const bin = findBin();
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "restorability-bench-pg-"));
  const root = process.getuid?.() === 0;
  if (root) {
    try {
      execFileSync("id", ["postgres"], { stdio: "ignore" });
    } catch {
      execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
    }
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]) =>
    (root ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args]) as [string, string[]];
  const exec = (cmd: string, args: string[]) => {
    const [c, a] = as(cmd, args);
    execFileSync(c, a, { stdio: "pipe" });
  };
  const port = await freePort();
  const data = join(dir, "data");
  exec(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  exec(join(bin, "pg_ctl"), [
    "-D",
    data,
    "-l",
    join(dir, "server.log"),
    "-w",
    "-t",
    "60",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=256MB`,
    "start",
  ]);
  const stop = () => {
    try {
      exec(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stop);
  try {
    exec(join(bin, "psql"), [
      "-q",
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      "CREATE DATABASE bench",
    ]);
    const pid = Number(execFileSync("head", ["-1", join(data, "postmaster.pid")], { encoding: "utf8" }).trim());
    if (core !== undefined && which("taskset")) {
      // Pin the postmaster and every backend it has forked so far; later backends inherit it.
      const pids = execFileSync("sh", ["-c", `echo ${pid}; pgrep -P ${pid} || true`], { encoding: "utf8" })
        .split(/\s+/)
        .filter(Boolean);
      for (const p of pids) execFileSync("taskset", ["-a", "-cp", String(core), p], { stdio: "ignore" });
    }
    return { url: `postgres://postgres@127.0.0.1:${port}/bench`, pid, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
