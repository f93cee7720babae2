/** Summaries of V8 CPU profiles (node --cpu-prof): self time by package/area and by function. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** Where a frame's code lives: a package, a directory of ours, Node internals, or V8. */
export function area(url: string, name: string): string {
  if (!url) {
    if (name === "(garbage collector)" || name === "(idle)" || name === "(program)") return name;
    return "(native)";
  }
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith("node:")) {
    const m = /^node:(internal\/)?([^/]+)/.exec(url);
    return `node:${m?.[2] ?? url}`;
  }
  const ours = /\/dist\/(src\/[^/]+|gen|bench)\//.exec(url);
  if (ours) return ours[1]!;
  return url;
}

/** Self time per area and the top functions, for every .cpuprofile in dir, as Markdown. */
export function summarizeProfiles(dir: string, top = 25): string {
  const selfByArea = new Map<string, number>();
  const selfByFn = new Map<string, number>();
  /** Inclusive time of the service's own functions (dist/src): where a request's time goes. */
  const inclusiveOurs = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const label = (n: ProfileNode) => {
      const { functionName, url, lineNumber } = n.callFrame;
      const short = url ? `${url.replace(/^.*\/(node_modules|dist)\//, "")}:${lineNumber + 1}` : "";
      return `${functionName || "(anonymous)"} ${short}`.trim();
    };
    // Self time from samples × time deltas (µs).
    const self = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let i = 0; i < samples.length; i++) {
      const dt = deltas[i + 1] ?? deltas[i] ?? 0;
      self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + dt);
    }
    for (const [id, us] of self) {
      const node = byId.get(id);
      if (!node) continue;
      const { functionName, url } = node.callFrame;
      const name = functionName || "(anonymous)";
      if (name === "(idle)") continue;
      total += us;
      const a = area(url, name);
      selfByArea.set(a, (selfByArea.get(a) ?? 0) + us);
      const key = label(node);
      selfByFn.set(key, (selfByFn.get(key) ?? 0) + us);
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)!;
        if (!/\/dist\/src\//.test(frame.callFrame.url)) continue;
        const k = label(frame);
        if (seen.has(k)) continue;
        seen.add(k);
        inclusiveOurs.set(k, (inclusiveOurs.get(k) ?? 0) + us);
      }
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1)}%`;
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `| ${pct(us)} | \`${k}\` |`)
      .join("\n");
  return `Busy time sampled: ${(total / 1e6).toFixed(2)} s (idle excluded).

| self | area |
|---|---|
${rows(selfByArea)}

| self | function |
|---|---|
${rows(selfByFn)}

| inclusive | function of the service (dist/src) |
|---|---|
${rows(inclusiveOurs)}`;
}
