/**
 * Builds a synthetic inventory database (a SQLite path, replaced; or a postgres:// URL) through
 * the service's own file import (`importInventoryFile`, as `npm run import` runs it): generate
 * one inventory file of TOTAL items (not timed), then stream it into the store in one import
 * (timed: read, validate, stage, merge in one transaction), sampling the process's RSS.
 * argv: DB_PATH TOTAL_ITEMS [json|ndjson]. Prints one JSON line with the timings.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseDatabaseUrl } from "../../src/server/config.js";
import { createStore } from "../../src/store/create-store.js";
import { importInventoryFile } from "../../src/store/import-inventory.js";
import { writeInventoryFile } from "../lib/inventory.js";

const [path, totalArg, formatArg = "json"] = process.argv.slice(2);
const total = Number(totalArg);
const format = formatArg === "ndjson" ? "ndjson" : "json";
if (!path || !(total > 0)) {
  console.error("usage: import-db DB_PATH TOTAL_ITEMS [json|ndjson]");
  process.exit(2);
}
const database = parseDatabaseUrl(path);
if (database.kind === "sqlite") for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });

const wallStart = performance.now();
const dir = mkdtempSync(join(os.tmpdir(), "restorability-bench-inventory-"));
try {
  const file = join(dir, `inventory.${format}`);
  await writeInventoryFile(file, total, format);
  const generateMs = performance.now() - wallStart;

  let peakRss = 0;
  const sample = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 50);
  const t0 = performance.now();
  const cpu = process.cpuUsage();
  const store = await createStore(database);
  const counts = await importInventoryFile(store, file, { onProgress: sample });
  await store.close();
  const used = process.cpuUsage(cpu);
  const importMs = performance.now() - t0;
  clearInterval(sampler);
  sample();
  console.log(
    JSON.stringify({
      items: total,
      servers: counts.servers,
      volumes: counts.volumes,
      format,
      importSeconds: importMs / 1000,
      importCpuSeconds: (used.user + used.system) / 1e6,
      importPeakRssMb: peakRss / 2 ** 20,
      generateSeconds: generateMs / 1000,
      wallSeconds: (performance.now() - wallStart) / 1000,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
