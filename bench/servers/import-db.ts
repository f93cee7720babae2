/**
 * Builds a synthetic inventory database (a SQLite path, replaced; or a postgres:// URL) through the service's own import path: for each chunk,
 * generate the inventory file text (not timed), then JSON.parse + validate + write it in one
 * transaction with importInventory (timed), as `npm run import` does per file.
 * argv: DB_PATH TOTAL_ITEMS CHUNK_ITEMS. Prints one JSON line with the timings.
 */
import { rmSync } from "node:fs";
import { parseDatabaseUrl } from "../../src/server/config.js";
import { createStore } from "../../src/store/create-store.js";
import { importInventory } from "../../src/store/import-inventory.js";
import { inventoryChunk } from "../lib/inventory.js";

const [path, totalArg, chunkArg] = process.argv.slice(2);
const total = Number(totalArg);
const chunk = Number(chunkArg);
if (!path || !(total > 0) || !(chunk > 0)) {
  console.error("usage: import-db DB_PATH TOTAL_ITEMS CHUNK_ITEMS");
  process.exit(2);
}
const database = parseDatabaseUrl(path);
if (database.kind === "sqlite") for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });

const wallStart = performance.now();
let importMs = 0;
let importCpuUs = 0;
let generateMs = 0;
let servers = 0;
let volumes = 0;
const store = await createStore(database);
for (let from = 0; from < total; from += chunk) {
  const t0 = performance.now();
  const text = inventoryChunk(from, Math.min(total, from + chunk));
  const t1 = performance.now();
  const cpu = process.cpuUsage();
  const counts = await importInventory(store, JSON.parse(text));
  const t2 = performance.now();
  const used = process.cpuUsage(cpu);
  importCpuUs += used.user + used.system;
  generateMs += t1 - t0;
  importMs += t2 - t1;
  servers += counts.servers;
  volumes += counts.volumes;
}
const closeStart = performance.now();
await store.close();
importMs += performance.now() - closeStart;
console.log(
  JSON.stringify({
    items: total,
    servers,
    volumes,
    chunkItems: chunk,
    importSeconds: importMs / 1000,
    importCpuSeconds: importCpuUs / 1e6,
    generateSeconds: generateMs / 1000,
    wallSeconds: (performance.now() - wallStart) / 1000,
  }),
);
