import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The rooms of src/ and what each may import (docs/architecture.md, "Rooms"). Arrows point
 * inward: the domain imports nothing of the project, the server wires everything. A new
 * import that crosses a wall fails here, so the document stays true.
 */
const ROOT = resolve(import.meta.dirname, "..");
const SRC = join(ROOT, "src");

/** Room → the project rooms its files may import (besides their own). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  domain: [],
  auth: [],
  store: ["domain"],
  service: ["domain", "store", "auth", "gen"],
  gateway: ["domain", "service", "gen"],
  server: ["domain", "store", "service", "gateway", "auth", "gen"],
};
/** npm packages the domain may use: validation only (no I/O, no transport, no generated code). */
const DOMAIN_PACKAGES = new Set(["zod"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Every module specifier of a file's import and export-from statements (static and dynamic). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/g)) found.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+"([^"]+)"/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push(m[1]!);
  return found;
}

/** The room of a path under the repository: src/<room>/…, or gen. */
function roomOf(path: string): string {
  const [top, room] = relative(ROOT, path).split("/");
  return top === "src" ? room! : top!;
}

const files = sourceFiles(SRC);
const imports = files.flatMap((file) =>
  specifiers(file).map((spec) => ({
    file: relative(ROOT, file),
    from: roomOf(file),
    spec,
    to: spec.startsWith(".") ? roomOf(resolve(dirname(file), spec)) : undefined,
  })),
);

describe("architecture: what each room of src/ may import", () => {
  it("scans every room, and every room is listed", () => {
    expect(new Set(files.map(roomOf))).toEqual(new Set(Object.keys(MAY_IMPORT)));
    expect(imports.length).toBeGreaterThan(100);
  });

  it.each(Object.entries(MAY_IMPORT))("%s imports only its own room and %j", (room, allowed) => {
    const crossing = imports
      .filter((i) => i.from === room && i.to !== undefined && i.to !== room && !allowed.includes(i.to))
      .map((i) => `${i.file} imports ${i.spec}`);
    expect(crossing).toEqual([]);
  });

  it("the domain uses no package but zod (no I/O, no transport, no generated code)", () => {
    const outside = imports
      .filter((i) => i.from === "domain" && i.to === undefined && !DOMAIN_PACKAGES.has(i.spec))
      .map((i) => `${i.file} imports ${i.spec}`);
    expect(outside).toEqual([]);
  });

  it("the auth room uses no transport, store or generated code", () => {
    const outside = imports
      .filter((i) => i.from === "auth" && i.to === undefined)
      .filter((i) => /^(@grpc|@connectrpc|@bufbuild|express|pg|better-sqlite3)/.test(i.spec))
      .map((i) => `${i.file} imports ${i.spec}`);
    expect(outside).toEqual([]);
  });
});
