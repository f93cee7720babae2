/**
 * Deterministic synthetic inventories for the inventory-size scenarios: every id is derived
 * from (kind, index), so request bodies can be built for any item without reading the DB.
 * Shape: item i restores onto server floor(i / ITEMS_PER_SERVER), which has a 40 GB system
 * disk and a 100 GB data disk; every item has two volume backups, one per disk. All
 * generated entries are restorable (all 18 rules run to the end).
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const BENCH_PROJECT = "bench-project";
export const CSBS_PROVIDER_ID = "fc4d5750-22e7-4798-8a46-f48f62c4c1da";
export const ITEMS_PER_SERVER = 10;
/**
 * Bump when the generated shape or the import path changes: cached databases are rebuilt
 * (and the import re-measured). 2: one streamed file through the bulk import; 3: read on a worker thread.
 */
export const GENERATOR_VERSION = 3;

const KIND_SEEDS = new Map<string, number>();
function kindSeed(kind: string): number {
  let seed = KIND_SEEDS.get(kind);
  if (seed === undefined) {
    seed = createHash("md5").update(kind).digest().readUInt32LE(0);
    KIND_SEEDS.set(kind, seed);
  }
  return seed;
}

/** A 32-bit avalanche mix (murmur3 finalizer). */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, "0");

/**
 * A stable, random-looking UUID (version 4 layout) for the i-th object of a kind. The last
 * 12 hex digits carry i itself, so ids never collide; the rest is a hash (random B-tree order).
 */
export function benchId(kind: string, i: number): string {
  const seed = kindSeed(kind);
  const a = hex8(mix(seed ^ mix(i)));
  const b = hex8(mix(seed + 0x9e3779b9 + mix(i ^ 0x5bd1e995)));
  const tail = (i + (seed & 0xffff) * 0x100000000).toString(16).padStart(12, "0");
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${hex8(mix(i + seed)).slice(0, 3)}-${tail}`;
}

export interface RestoreEntryJson {
  checkpoint_item_id: string;
  target: {
    resource_id: string;
    resource_type: string;
    volumes: { backup_id: string; volume_id: string }[];
  };
}

const serverOf = (i: number) => Math.floor(i / ITEMS_PER_SERVER);

/** The request entry that restores item i onto its own server (restorable). */
export function restoreEntry(i: number): RestoreEntryJson {
  const s = serverOf(i);
  return {
    checkpoint_item_id: benchId("item", i),
    target: {
      resource_id: benchId("server", s),
      resource_type: "OS::Nova::Server",
      volumes: [
        { backup_id: benchId("backup0", i), volume_id: benchId("sysvol", s) },
        { backup_id: benchId("backup1", i), volume_id: benchId("datavol", s) },
      ],
    },
  };
}

/** Checkpoint item i (docs/contract.md §9 record): a backup of server floor(i / ITEMS_PER_SERVER). */
export function itemRecord(i: number): Record<string, unknown> {
  const s = serverOf(i);
  return {
    id: benchId("item", i),
    project_id: BENCH_PROJECT,
    provider_id: CSBS_PROVIDER_ID,
    checkpoint_id: benchId("checkpoint", i),
    resource_id: benchId("server", s),
    resource_type: "OS::Nova::Server",
    status: "available",
    resource_az: "az1",
    supported_restore_mode: "backup",
    volume_backups: [
      {
        id: benchId("backup0", i),
        source_volume_id: benchId("sysvol", s),
        source_volume_size: 40,
        bootable: true,
        status: "available",
      },
      {
        id: benchId("backup1", i),
        source_volume_id: benchId("datavol", s),
        source_volume_size: 100,
        bootable: false,
        status: "available",
      },
    ],
  };
}

/** Server s. */
export function serverRecord(s: number): Record<string, unknown> {
  return {
    id: benchId("server", s),
    project_id: BENCH_PROJECT,
    type: "OS::Nova::Server",
    status: "ACTIVE",
    availability_zone: "az1",
    restore_supported: true,
    backup_supported: true,
    restoring: false,
    policy_id: null,
  };
}

/** The two volumes of server s: a 40 GB system disk and a 100 GB data disk. */
export function volumeRecords(s: number): Record<string, unknown>[] {
  return (
    [
      ["sysvol", 40, true],
      ["datavol", 100, false],
    ] as const
  ).map(([kind, size, bootable]) => ({
    id: benchId(kind, s),
    project_id: BENCH_PROJECT,
    server_id: benchId("server", s),
    size,
    bootable,
    shareable: false,
    status: "in-use",
  }));
}

/** The servers of items [from, to). */
function serversOf(from: number, to: number): number[] {
  const servers: number[] = [];
  for (let s = serverOf(from); s <= serverOf(to - 1); s++) servers.push(s);
  return servers;
}

/** Inventory file (docs/contract.md §9 format) with items [from, to) and their servers and volumes. */
export function inventoryChunk(from: number, to: number): string {
  const items: unknown[] = [];
  for (let i = from; i < to; i++) items.push(itemRecord(i));
  const servers = serversOf(from, to);
  return JSON.stringify({
    checkpoint_items: items,
    servers: servers.map(serverRecord),
    volumes: servers.flatMap(volumeRecords),
  });
}

/** Writes inventory files of `chunk` items each for `total` items; returns their paths. */
export function writeInventoryFiles(dir: string, total: number, chunk: number): string[] {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let from = 0; from < total; from += chunk) {
    const file = join(dir, `items-${String(from).padStart(8, "0")}.json`);
    writeFileSync(file, inventoryChunk(from, Math.min(total, from + chunk)));
    files.push(file);
  }
  return files;
}

/**
 * Writes one inventory file of `total` items with their servers and volumes, piece by piece
 * (a 1M-item document is larger than the longest string V8 can hold): the JSON document
 * (docs/contract.md §9), or NDJSON (one record per line with its `kind`).
 */
export async function writeInventoryFile(file: string, total: number, format: "json" | "ndjson"): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, "drain");
  };
  const servers = total > 0 ? serversOf(0, total) : [];
  const kinds: [string, string, number, (n: number) => Record<string, unknown>[]][] = [
    ["checkpoint_items", "checkpoint_item", total, (i) => [itemRecord(i)]],
    ["servers", "server", servers.length, (s) => [serverRecord(s)]],
    ["volumes", "volume", servers.length, volumeRecords],
  ];
  const PIECE = 5_000;
  if (format === "json") await write("{");
  for (const [index, [field, kind, count, records]] of kinds.entries()) {
    if (format === "json") await write(`${index > 0 ? "," : ""}"${field}":[`);
    let first = true;
    for (let from = 0; from < count; from += PIECE) {
      const lines: string[] = [];
      for (let n = from; n < Math.min(count, from + PIECE); n++) {
        for (const r of records(n)) lines.push(format === "json" ? JSON.stringify(r) : JSON.stringify({ kind, ...r }));
      }
      const sep = format === "json" ? "," : "\n";
      await write((format === "json" && !first ? "," : "") + lines.join(sep) + (format === "ndjson" ? "\n" : ""));
      first = false;
    }
    if (format === "json") await write("]");
  }
  if (format === "json") await write("}");
  out.end();
  await once(out, "finish");
}

/** A small seeded PRNG (mulberry32), so every run sends the same request sequence pool. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` bodies of `entries` distinct random items each, out of `total` items. */
export function restoreBodies(total: number, entries: number, count: number, seed = 42): RestoreEntryJson[][] {
  const random = prng(seed + entries);
  const bodies: RestoreEntryJson[][] = [];
  for (let b = 0; b < count; b++) {
    const picked = new Set<number>();
    while (picked.size < Math.min(entries, total)) picked.add(Math.floor(random() * total));
    bodies.push([...picked].map(restoreEntry));
  }
  return bodies;
}
