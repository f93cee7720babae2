/**
 * npm run import -- [--format json|ndjson] [--progress-interval SECONDS] FILE [FILE...]
 * Upserts inventory files (docs/contract.md §9: a JSON document, or NDJSON with one record
 * per line) into the store DATABASE_URL names, each file streamed (bounded memory) and
 * written in one transaction: a bad record rejects that whole file, naming its path.
 * On a terminal a progress bar; otherwise a progress line every interval (default 10 s).
 * One summary line per file.
 */
import { parseArgs } from "node:util";
import { type ImportProgress, InventoryError, importInventoryFile } from "../../store/import-inventory.js";
import type { InventoryFormat } from "../../store/read-inventory-file.js";
import { ConfigError, loadConfig } from "../config.js";
import { createImportProgress } from "./import-progress.js";

const USAGE = "usage: npm run import -- [--format json|ndjson] [--progress-interval SECONDS] FILE [FILE...]";

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    allowPositionals: true,
    options: { format: { type: "string" }, "progress-interval": { type: "string" } },
  });
}
try {
  args = parse();
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const files = args.positionals;
const format = args.values.format;
const interval = Number(args.values["progress-interval"] ?? 10);
if (files.length === 0 || (format !== undefined && format !== "json" && format !== "ndjson") || !(interval > 0)) {
  console.error(USAGE);
  process.exit(2);
}

let code = 0;
try {
  const config = loadConfig();
  const { createStore } = await import("../../store/create-store.js");
  const store = await createStore(config.database, {
    dbConnectTimeoutMs: config.dbConnectTimeoutMs,
    dbQueryTimeoutMs: config.dbQueryTimeoutMs,
    dbPoolMax: 2,
  });
  try {
    for (const file of files) {
      const progress = createImportProgress({ file, stream: process.stderr, intervalMs: interval * 1000 });
      try {
        const counts = await importInventoryFile(store, file, {
          ...(format ? { format: format as InventoryFormat } : {}),
          onProgress: (p: ImportProgress) => progress.update(p),
        });
        progress.stop();
        console.log(
          `${file}: upserted ${counts.checkpointItems} checkpoint items, ${counts.servers} servers, ${counts.volumes} volumes in ${progress.elapsed()}`,
        );
      } catch (error) {
        progress.stop();
        if (!(error instanceof InventoryError)) throw error;
        console.error(`${file}: rejected, nothing written: ${error.message}`);
        code = 1;
      }
    }
  } finally {
    await store.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  code = 1;
}
process.exit(code);
