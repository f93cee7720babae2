/** Summaries of V8 CPU profiles (node --cpu-prof): self time by package/area and by function. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
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

/** The project's own code: compiled (dist/src, dist/gen, dist/bench) or, through a bundle's source map, its sources. */
const OURS = /^file:\/\/.*?\/(?:dist\/)?(src\/[^/]+|gen|bench)\//;
const isOurs = (url: string) => !url.includes("/node_modules/") && /^file:\/\/.*?\/(?:dist\/)?src\//.test(url);

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
  const ours = OURS.exec(url);
  if (ours) return ours[1]!;
  return url;
}

/**
 * A frame of a bundle (dist/server.mjs, with its .map beside it) moved to the module it came
 * from (dist/src/..., node_modules/...), so that areas, functions and the inclusive time of the
 * service's own functions read as they would unbundled. Frames of other files are unchanged.
 */
function createFrameResolver(): (frame: ProfileNode["callFrame"]) => ProfileNode["callFrame"] {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    let map = maps.get(url);
    if (map !== undefined) return map;
    map = null;
    if (url.startsWith("file:")) {
      const file = `${fileURLToPath(url)}.map`;
      if (existsSync(file)) map = new SourceMap(JSON.parse(readFileSync(file, "utf8")));
    }
    maps.set(url, map);
    return map;
  };
  return (frame) => {
    const map = frame.url ? mapOf(frame.url) : null;
    if (!map) return frame;
    const entry = map.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as {
      originalSource?: string;
      originalLine?: number;
    };
    if (!entry.originalSource) return frame;
    const source = entry.originalSource.startsWith("file:")
      ? entry.originalSource
      : pathToFileURL(join(fileURLToPath(frame.url), "..", entry.originalSource)).href;
    return { ...frame, url: source, lineNumber: entry.originalLine ?? frame.lineNumber };
  };
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
    const resolve = createFrameResolver();
    for (const n of profile.nodes) n.callFrame = resolve(n.callFrame);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const label = (n: ProfileNode) => {
      const { functionName, url, lineNumber } = n.callFrame;
      const short = url
        ? `${url.replace(/^.*\/(node_modules|dist)\//, "").replace(/^file:\/\/.*?\/(src|gen|bench)\//, "$1/")}:${lineNumber + 1}`
        : "";
      return `${functionName || "(anonymous)"} ${short}`.trim();
    };
    // Self time from samples × time deltas (µs).
    const self = new Map<number, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    // A sample's delta is the time until the next one; when the process was descheduled (a
    // shared machine) one delta can be seconds, all charged to whatever ran last. Each is capped
    // at 10× the median interval.
    const sorted = deltas.filter((d) => d > 0).sort((x, y) => x - y);
    const cap = 10 * (sorted[Math.floor(sorted.length / 2)] ?? Number.POSITIVE_INFINITY);
    for (let i = 0; i < samples.length; i++) {
      const dt = Math.min(cap, deltas[i + 1] ?? deltas[i] ?? 0);
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
        if (!isOurs(frame.callFrame.url)) continue;
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
