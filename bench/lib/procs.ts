/** Child processes of the bench: pinned with taskset, watched through /proc, always cleaned up. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import net from "node:net";
import { availableParallelism, cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

let watching = false;
/** Kills every child when this process exits or is interrupted (registered with the first child). */
function killChildrenOnExit(): void {
  if (watching) return;
  watching = true;
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function which(tool: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

let taskset: { path: string | undefined } | undefined;
/** taskset, when there is one and at least two cores to pin the server and the load apart. */
function tasksetPath(): string | undefined {
  taskset ??= { path: availableParallelism() >= 2 ? which("taskset") : undefined };
  return taskset.path;
}

/** Whether servers and load can be pinned to cores of their own. */
export function canPin(): boolean {
  return tasksetPath() !== undefined;
}

/** Pins this process (all its threads) to a core; threads created later inherit it. */
export function pinSelf(core: number): void {
  const TASKSET = tasksetPath();
  if (TASKSET) execFileSync(TASKSET, ["-a", "-cp", String(core), String(process.pid)], { stdio: "ignore" });
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** The last 64 KiB of stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /**
   * The core to pin the process to; "all" for every core of the machine (a child otherwise
   * inherits the orchestrator's own pinning to the load core); undefined: inherit.
   */
  core: number | "all" | undefined;
  env?: Record<string, string>;
  ipc?: boolean;
  cwd?: string;
  /** Append stdout to this file instead of a pipe (a busy server's log must not load the load core). */
  stdoutFile?: string;
}

/** Starts `command args` pinned to `core` (taskset execs it: the pid is the command's). */
export function start(command: string, args: string[], options: SpawnOptions): Proc {
  killChildrenOnExit();
  const TASKSET = tasksetPath();
  const pinned = TASKSET && options.core !== undefined;
  const stdoutFd = options.stdoutFile ? openSync(options.stdoutFile, "a") : undefined;
  const stdout = stdoutFd ?? "pipe";
  // os.cpus(), not availableParallelism(): the latter counts this process's own (pinned) affinity.
  const cores = options.core === "all" ? `0-${cpus().length - 1}` : String(options.core);
  const child = spawn(pinned ? TASKSET : command, pinned ? ["-c", cores, command, ...args] : args, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: options.ipc ? ["ignore", stdout, "pipe", "ipc"] : ["ignore", stdout, "pipe"],
  });
  if (stdoutFd !== undefined) closeSync(stdoutFd);
  if (child.pid === undefined) throw new Error(`bench: cannot start ${command}`);
  children.add(child);
  let out = "";
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString("utf8")).slice(-65536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const output = () => {
    if (!options.stdoutFile) return out;
    let log = "";
    try {
      log = readFileSync(options.stdoutFile, "utf8").slice(-8192);
    } catch {
      // no log yet
    }
    return `${log}\n${out}`;
  };
  return { child, pid: child.pid, output, exited };
}

/** Runs a command to completion; resolves with its stdout, rejects on a non-zero exit. */
export async function run(
  command: string,
  args: string[],
  options: SpawnOptions & { onPid?: (pid: number) => void },
): Promise<string> {
  const proc = start(command, args, options);
  options.onPid?.(proc.pid);
  let stdout = "";
  proc.child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
  });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`bench: ${command} ${args.join(" ")} exited with ${code}:\n${proc.output()}`);
  return stdout;
}

export async function stop(proc: Proc, timeoutMs = 10_000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), timeoutMs);
  await proc.exited;
  clearTimeout(timer);
}

/** utime + stime of a process, in seconds (undefined once it is gone). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5); fields[0] is field 3.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Resident set size in MB (undefined once the process is gone); `field` RssAnon: its anonymous part. */
export function rssMb(pid: number, field: "VmRSS" | "RssAnon" = "VmRSS"): number | undefined {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function until(what: string, proc: Proc | undefined, timeoutMs: number, probe: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null))
      throw new Error(`bench: ${what}: the process exited:\n${proc.output()}`);
    if (Date.now() > deadline)
      throw new Error(`bench: ${what}: not ready after ${timeoutMs} ms\n${proc?.output() ?? ""}`);
    await sleep(5);
  }
}

/** Resolves once GET url answers 200. */
export function waitHttp(url: string, proc?: Proc, timeoutMs = 60_000): Promise<void> {
  return until(url, proc, timeoutMs, async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  });
}

/** Resolves once 127.0.0.1:port accepts a connection. */
export function waitTcp(port: number, proc?: Proc, timeoutMs = 30_000): Promise<void> {
  return until(`port ${port}`, proc, timeoutMs, () => {
    return new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  });
}

let nextId = 0;
/** Asks a bench server (timing-hook) over IPC; resolves with its reply. */
export function ask<T>(
  proc: Proc,
  cmd: "reset" | "stats" | "profile-start" | "profile-stop",
  arg?: string,
): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench: no IPC reply to ${cmd}`)), 30_000);
    const onMessage = (message: { id?: number; stats?: T; error?: string }) => {
      if (message.id !== id) return;
      clearTimeout(timer);
      proc.child.off("message", onMessage);
      if (message.error) reject(new Error(`bench: ${cmd}: ${message.error}`));
      else resolve(message.stats as T);
    };
    proc.child.on("message", onMessage);
    proc.child.send({ cmd, id, arg });
  });
}
