import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { README, withSettingsTable } from "../scripts/render-settings.js";
import { ConfigError, loadConfig } from "../src/server/config.js";
import { SETTINGS } from "../src/server/settings.js";
import { createSqliteStore } from "../src/store/sqlite-store.js";

describe("configuration", () => {
  it("defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      httpPort: 8080,
      grpcPort: 50051,
      host: "127.0.0.1",
      // Relative to the project directory, whatever the working directory.
      database: { kind: "sqlite", path: new URL("../data/restorability.db", import.meta.url).pathname },
      maxCheckItems: 100,
      maxVolumes: 64,
      maxBodyBytes: 1024 * 1024,
      sqliteMmapMb: 2048,
      storeCacheEntries: 10_000,
      auth: { mode: "none" },
    });
  });

  it.each([
    ["HTTP_PORT", "eighty"],
    ["GRPC_PORT", "70000"],
    ["MAX_CHECK_ITEMS", "0"],
    ["SQLITE_MMAP_MB", "-1"],
    ["STORE_CACHE_ENTRIES", "-1"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://x/y"],
    ["AUTH_JWT_SECRET", "short"],
  ])("an invalid %s stops start-up with a message naming it", (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
  });

  it("every bad variable is named at once, one line each", () => {
    const error = (() => {
      try {
        loadConfig({ HTTP_PORT: "eighty", LOG_LEVEL: "loud", MAX_VOLUMES: "0", CORS_ALLOWED_ORIGINS: "ftp://x" });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(
      ["CORS_ALLOWED_ORIGINS", "HTTP_PORT", "LOG_LEVEL", "MAX_VOLUMES"].sort(),
    );
    expect((error as Error).message.split("\n")).toHaveLength(4);
  });

  it("each integer setting's default and bounds come from the settings table", () => {
    for (const [name, s] of Object.entries(SETTINGS)) {
      if (s.kind !== "integer") continue;
      expect(() => loadConfig({ [name]: String(s.max + 1) }), name).toThrow(new RegExp(`^${name}: must be between`));
      if (s.min > 0) expect(() => loadConfig({ [name]: String(s.min - 1) }), name).toThrow(ConfigError);
    }
  });

  it("the README's configuration table is the one rendered from the settings table (npm run docs:settings)", () => {
    const readme = readFileSync(README, "utf8");
    expect(readme).toBe(withSettingsTable(readme));
    for (const name of Object.keys(SETTINGS)) expect(readme).toContain(`| \`${name}\` |`);
  });

  it("sqlite: and postgres:// URLs", () => {
    expect(loadConfig({ DATABASE_URL: "sqlite:/tmp/x.db" }).database).toEqual({ kind: "sqlite", path: "/tmp/x.db" });
    expect(loadConfig({ DATABASE_URL: "postgres://u@h/db" }).database).toEqual({
      kind: "postgres",
      url: "postgres://u@h/db",
    });
  });
});

describe("SQLite memory mapping", () => {
  it.each([0, 4])("a store with sqliteMmapMb %i writes and reads", async (sqliteMmapMb) => {
    const dir = mkdtempSync(join(tmpdir(), "mmap-"));
    const store = createSqliteStore({ path: join(dir, "m.db"), sqliteMmapMb });
    try {
      await store.write({
        checkpointItems: [],
        servers: [
          {
            id: "5aa119a8-d25b-45a7-8d1b-88e127885635",
            projectId: "p",
            type: "OS::Nova::Server",
            status: "ACTIVE",
            availabilityZone: "az1",
            restoreSupported: true,
            backupSupported: true,
            restoring: false,
            policyId: null,
          },
        ],
        volumes: [],
      });
      const servers = await store.getServers("p", ["5aa119a8-d25b-45a7-8d1b-88e127885635"]);
      expect(servers.get("5aa119a8-d25b-45a7-8d1b-88e127885635")?.status).toBe("ACTIVE");
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
