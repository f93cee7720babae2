/**
 * Micro A/B of the rules alone: `checkRestorable` (the default answer's domain function) of
 * this build against another built checkout's, on the same facts (the bench's restorable and
 * failing demo cases), interleaved, pinned to one core when taskset exists.
 *
 *   npm run build && node dist/bench/domain-ab.js --base ../other-checkout
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type InventoryListName, parseInventoryRecord } from "../src/domain/inventory-schema.js";
import type { RestoreEntry, RestoreFacts } from "../src/domain/restore-rules.js";
import { checkRestorable } from "../src/domain/restore-rules.js";
import type { Verdict } from "../src/domain/verdict.js";
import { DEMO_INVENTORY, type DemoCase, FAILING, RESTORABLE } from "./lib/fixtures.js";
import { canPin, pinSelf } from "./lib/procs.js";
import { spread } from "./lib/stats.js";

const { values } = parseArgs({
  options: { base: { type: "string" }, iterations: { type: "string", default: "2000000" } },
});
if (!values.base) {
  console.error("usage: node dist/bench/domain-ab.js --base <built checkout> [--iterations N]");
  process.exit(2);
}
if (canPin()) pinSelf(0);
type Check = (entry: RestoreEntry, facts: RestoreFacts) => Verdict;
const base = (await import(join(resolve(values.base), "dist/src/domain/restore-rules.js"))) as {
  checkRestorable: Check;
};
const N = Number(values.iterations);

// The demo inventory as domain values, through the service's own record parse (what an import does).
const inventory = JSON.parse(readFileSync(DEMO_INVENTORY, "utf8")) as Record<InventoryListName, unknown[]>;
function parsed<L extends InventoryListName>(list: L) {
  return inventory[list].map((value, i) => {
    const r = parseInventoryRecord(list, value, `${list}[${i}]`);
    if (!r.ok) throw new Error(`domain-ab: ${r.message}`);
    return r.record;
  });
}
const items = new Map(parsed("checkpoint_items").map((i) => [i.id, i]));
const servers = new Map(parsed("servers").map((s) => [s.id, s]));
const volumes = parsed("volumes");

function input(c: DemoCase): { entry: RestoreEntry; facts: RestoreFacts } {
  const { checkpoint_item_id, target } = c.request;
  const entry: RestoreEntry = {
    checkpointItemId: checkpoint_item_id,
    target: {
      resourceId: target.resource_id,
      resourceType: target.resource_type,
      volumes: target.volumes.map((m) => ({ backupId: m.backup_id, volumeId: m.volume_id })),
    },
  };
  const facts: RestoreFacts = {
    item: items.get(checkpoint_item_id),
    server: servers.get(target.resource_id),
    serverVolumes: volumes.filter((v) => v.serverId === target.resource_id),
  };
  return { entry, facts };
}

console.log("| case | base ns/entry | this ns/entry | this ÷ base |\n|---|---|---|---|");
for (const c of [RESTORABLE, FAILING]) {
  const { entry, facts } = input(c);
  const a = JSON.stringify(base.checkRestorable(entry, facts));
  const b = JSON.stringify(checkRestorable(entry, facts));
  if (a !== b) throw new Error(`domain-ab: the verdicts differ on "${c.name}": ${a} vs ${b}`);
  const times: Record<"base" | "this", number[]> = { base: [], this: [] };
  for (let r = 0; r < 7; r++) {
    const order: Array<["base" | "this", Check]> = [
      ["base", base.checkRestorable],
      ["this", checkRestorable],
    ];
    if (r % 2) order.reverse();
    for (const [side, check] of order) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < N; i++) check(entry, facts);
      times[side].push(Number(process.hrtime.bigint() - t0) / N);
    }
  }
  const [b0, t0] = [spread(times.base).median, spread(times.this).median];
  console.log(`| ${c.name} | ${b0.toFixed(0)} | ${t0.toFixed(0)} | ${(t0 / b0).toFixed(2)} |`);
}
