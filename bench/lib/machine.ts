import { execFileSync } from "node:child_process";
import os from "node:os";
import { ROOT } from "./paths.js";
import { canPin } from "./procs.js";

function sh(cmd: string, cwd = ROOT): string {
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8", cwd }).trim();
  } catch {
    return "";
  }
}

/** The commit a checkout is at, marked when its measured files have uncommitted changes. */
export function commitOf(dir: string): string {
  const commit = sh("git rev-parse --short HEAD", dir) || "unknown";
  const dirty = sh("git status --porcelain --untracked-files=no -- src gen bench package.json", dir) !== "";
  return dirty ? `${commit} (with uncommitted changes)` : commit;
}

/** The machine and the commit a run measured. */
export function machine() {
  const model = /Model name:\s*(.+)/.exec(sh("lscpu"))?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  return {
    cpuModel: model,
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    commit: commitOf(ROOT),
    pinned: canPin(),
  };
}
