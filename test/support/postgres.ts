import { execFile, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

/**
 * The PostgreSQL server the shared tests use (`.ci/postgres.sh` starts one and exports it).
 * Unset: PostgreSQL tests skip, except in CI, where that is a setup error and fails loudly.
 */
export function testDatabaseUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL;
  if (url) return url;
  if (process.env.CI === "true") {
    throw new Error("CI=true but TEST_DATABASE_URL is unset: .ci/run must source .ci/postgres.sh first");
  }
  return undefined;
}

/** The directory of initdb/pg_ctl: on PATH, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

/**
 * Whether this process can run private clusters. Where PostgreSQL tests are enabled
 * (TEST_DATABASE_URL set, or CI) and the binaries are missing, that is an error.
 */
export function canRunPrivateCluster(): boolean {
  if (!testDatabaseUrl()) return false;
  if (postgresBinDir()) return true;
  throw new Error("PostgreSQL tests are enabled but initdb/pg_ctl are not installed (apt-get install postgresql)");
}

/** A free TCP port on 127.0.0.1 (free when asked; the cluster binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** pg_ctl stop -m fast: the server closes every connection and stops listening. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** SIGSTOP to the server and its backends: connections hang instead of failing. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops it (immediately) and removes its files. */
  destroy(): Promise<void>;
}

/**
 * A throwaway PostgreSQL cluster of this test file alone (initdb + pg_ctl in a temp dir, on
 * its own port, ~1.3 s), for tests that stop or freeze the database. As root, the server
 * runs as the `postgres` user (postgres refuses to run as root). Always destroy() it in
 * afterAll; it is also stopped if the test process exits.
 */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("initdb/pg_ctl not found");
  const root = mkdtempSync(join(tmpdir(), "restorability-pg-"));
  const data = join(root, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const pwd = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((l) => l.split(":"))
      .find((f) => f[0] === "postgres");
    if (!pwd) throw new Error("running as root but there is no postgres user");
    chownSync(root, Number(pwd[2]), Number(pwd[3]));
  }
  const as = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args];
  const pgCtl = async (...args: string[]) => {
    const [file, argv] = as("pg_ctl", ["-D", data, "-l", join(root, "log"), ...args]);
    await run(file, argv, { timeout: 60_000 });
  };

  const port = await freePort();
  const [initFile, initArgs] = as("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  await run(initFile, initArgs, { timeout: 120_000 });
  const serverOptions = [
    `-p ${port}`,
    `-k ${root}`,
    "-c listen_addresses=127.0.0.1",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=50",
  ].join(" ");
  const start = () => pgCtl("-o", serverOptions, "-w", "-t", "60", "start");

  let paused = false;
  const processes = (): number[] => {
    const pidFile = join(data, "postmaster.pid");
    if (!existsSync(pidFile)) return [];
    const postmaster = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    const children = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = readFileSync(`/proc/${d}/stat`, "utf8");
          return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of processes()) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const cleanupSync = () => {
    if (paused) signal("SIGCONT");
    const [file, argv] = as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    spawnSync(file, argv, { stdio: "ignore", timeout: 30_000 });
    rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", cleanupSync);

  try {
    await start();
  } catch (error) {
    process.removeListener("exit", cleanupSync);
    cleanupSync();
    const log = existsSync(join(root, "log")) ? readFileSync(join(root, "log"), "utf8") : "";
    throw new Error(`private PostgreSQL cluster did not start: ${(error as Error).message}\n${log}`);
  }
  const urlOf = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    url: urlOf("postgres"),
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlOf("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    stop: () => pgCtl("-m", "fast", "-w", "-t", "60", "stop"),
    start,
    pause() {
      paused = true;
      signal("SIGSTOP");
    },
    resume() {
      paused = false;
      signal("SIGCONT");
    },
    async destroy() {
      process.removeListener("exit", cleanupSync);
      cleanupSync();
    },
  };
}

/** A fresh database on the shared test server (TEST_DATABASE_URL), for a test file that needs its own. */
export async function createTestDatabase(baseUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
