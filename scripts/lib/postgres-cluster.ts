import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

/**
 * The one throwaway-PostgreSQL launcher of the tests (test/support/postgres.ts), the bench
 * (bench/lib/postgres.ts) and CI (.ci/postgres.sh, through scripts/postgres-cluster.ts):
 * initdb into a temporary directory, pg_ctl start on a free port on 127.0.0.1, as the
 * `postgres` user when running as root (postgres refuses to run as root).
 */

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

/** Server settings of a throwaway cluster: no durability, for speed. */
export const THROWAWAY_SETTINGS: Readonly<Record<string, string>> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
};

export interface PostgresClusterOptions {
  /** `-c name=value` server settings (default THROWAWAY_SETTINGS). */
  settings?: Readonly<Record<string, string | number>>;
  /** Stop the cluster and remove its files when this process exits (default true). */
  stopOnExit?: boolean;
}

export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  readonly url: string;
  readonly port: number;
  /** The temporary directory (data/, the log, the socket). */
  readonly dir: string;
  /** The command (argv) that stops the cluster at once: for a shell's clean-up. */
  readonly stopCommand: readonly string[];
  /** The URL of database `name` on this cluster. */
  urlOf(name: string): string;
  /** The postmaster's pid (undefined while stopped). */
  pid(): number | undefined;
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
  destroy(): void;
}

/** uid and gid of the `postgres` user, created (as a system user) when missing. */
function postgresUser(): { uid: number; gid: number } {
  const find = () =>
    readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .map((l) => l.split(":"))
      .find((f) => f[0] === "postgres");
  let entry = find();
  if (!entry) {
    execFileSync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "postgres"]);
    entry = find();
  }
  if (!entry) throw new Error("running as root but there is no postgres user");
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

function postmasterPid(data: string): number | undefined {
  const pidFile = join(data, "postmaster.pid");
  return existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : undefined;
}

/** The postmaster's pid and its children's (from /proc). */
function serverProcesses(data: string): number[] {
  const postmaster = postmasterPid(data);
  if (postmaster === undefined) return [];
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
}

/** Starts a throwaway cluster (~1.3 s). Always destroy() it; by default it also goes when this process exits. */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("initdb/pg_ctl not found (apt-get install postgresql)");
  const dir = mkdtempSync(join(tmpdir(), "restorability-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
  }
  const as = (cmd: string, args: string[]): [string, ...string[]] =>
    asRoot ? ["runuser", "-u", "postgres", "--", join(bin, cmd), ...args] : [join(bin, cmd), ...args];
  const exec = async (cmd: string, args: string[], timeout = 60_000) => {
    const [file, ...argv] = as(cmd, args);
    await run(file, argv, { timeout });
  };

  const port = await freePort();
  await exec("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], 120_000);
  const settings = options.settings ?? THROWAWAY_SETTINGS;
  const serverOptions = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`),
  ].join(" ");
  const start = () => exec("pg_ctl", ["-D", data, "-l", log, "-o", serverOptions, "-w", "-t", "60", "start"]);
  const stopCommand = as("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);

  let paused = false;
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of serverProcesses(data)) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
  };
  const destroy = () => {
    process.removeListener("exit", destroy);
    if (paused) signal("SIGCONT");
    const [file, ...argv] = stopCommand;
    spawnSync(file!, argv, { stdio: "ignore", timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  if (options.stopOnExit !== false) process.once("exit", destroy);

  try {
    await start();
  } catch (error) {
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    destroy();
    throw new Error(`throwaway PostgreSQL cluster did not start: ${(error as Error).message}\n${text}`);
  }
  const urlOf = (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;
  return {
    url: urlOf("postgres"),
    port,
    dir,
    stopCommand,
    urlOf,
    pid: () => postmasterPid(data),
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
    stop: () => exec("pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]),
    start,
    pause() {
      paused = true;
      signal("SIGSTOP");
    },
    resume() {
      paused = false;
      signal("SIGCONT");
    },
    destroy,
  };
}
