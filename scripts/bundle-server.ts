/**
 * `npm run build`'s second step: the service's entry (dist/src/server/main.js, compiled by
 * tsc) and everything it imports, as one ES module, dist/server.mjs, the file `npm start`,
 * the Dockerfile and the systemd unit run. Node then reads and compiles one file instead of
 * resolving and loading some 300 modules one by one, which is most of the start-up time
 * (BENCHMARKS.md, issue 14). Kept out: better-sqlite3 (a native addon, loaded from
 * node_modules) and pg-native (optional, never installed). Whitespace and syntax are
 * minified, names are not (stack traces stay readable); dist/server.mjs.map maps it back.
 */
import { type BuildOptions, build } from "esbuild";

const common: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["better-sqlite3", "pg-native"],
  // CommonJS dependencies (express, grpc-js, pino, pg...) call require(): give the module one.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
};

await build({ ...common, entryPoints: ["dist/src/server/main.js"], outfile: "dist/server.mjs" });
// The import's reader thread (src/store/read-in-worker.ts), which server.mjs starts from the
// file beside it when it imports a large INVENTORY_FILE.
await build({
  ...common,
  entryPoints: ["dist/src/store/inventory-reader-worker.js"],
  outfile: "dist/inventory-reader-worker.js",
});
