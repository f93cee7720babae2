/**
 * npm run import -- FILE [FILE...]
 * Upserts inventory files (docs/contract.md §9 format) into the store DATABASE_URL names,
 * each file in one transaction: a bad record rejects that whole file, naming its path.
 */
import { createStore } from "../../store/create-store.js";
import { InventoryError, importInventoryFile } from "../../store/import-inventory.js";
import { ConfigError, loadConfig } from "../config.js";

const files = process.argv.slice(2).filter((a) => a !== "--");
if (files.length === 0) {
  console.error("usage: npm run import -- FILE [FILE...]");
  process.exit(2);
}
let code = 0;
try {
  const config = loadConfig();
  const store = await createStore(config.database, {
    dbConnectTimeoutMs: config.dbConnectTimeoutMs,
    dbQueryTimeoutMs: config.dbQueryTimeoutMs,
    dbPoolMax: 2,
  });
  try {
    for (const file of files) {
      try {
        const counts = await importInventoryFile(store, file);
        console.log(
          `${file}: upserted ${counts.checkpointItems} checkpoint items, ${counts.servers} servers, ${counts.volumes} volumes`,
        );
      } catch (error) {
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
