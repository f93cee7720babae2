import { LRUCache } from "lru-cache";
import type { CheckpointItem, Server, Volume } from "../domain/types.js";
import type { BulkImport } from "./bulk-import.js";
import type { CheckFacts, CheckLookup } from "./store.js";

/** What a check reads of one requested server id: the server (if it exists) and the volumes attached to that id. */
export interface ServerFacts {
  server: Server | undefined;
  volumes: Volume[];
}

/** Counts since start, for the metrics (read at scrape time). */
export interface FactsCacheStats {
  hits: number;
  misses: number;
  entries: number;
}

/**
 * The objects one store instance read for recent checks, by id, so that a repeated check
 * reads no rows: checkpoint items with their backups (or their absence), servers with their
 * attached volumes (or their absence), providers. Bounded: at most `maxEntries` items and as
 * many servers, least recently used first out.
 *
 * Exact: the owner empties it whenever the database changes: after every write of its own,
 * and when another writer commits (SQLite: `sync` with `PRAGMA data_version` before every
 * read whenever the WAL-index header moved; PostgreSQL: `clear` on the notification its
 * triggers send). An owner whose reads
 * are asynchronous stores what a read returned only if `generation()` did not move while it
 * ran. What it holds is shared by every check that reads it: read-only.
 */
export interface FactsCache {
  /** False when it may hold nothing (0 entries): readers go straight to the database, never set. */
  readonly enabled: boolean;
  /** Forgets everything when `version` is not the one the cached facts were read at. */
  sync(version: number): void;
  /** Forgets everything (after a write of the owner's). */
  clear(): void;
  /** Moves on every clear: a read begun in an earlier generation may be older than the cache. */
  generation(): number;
  /** The item, `null` when it is known not to exist, `undefined` when not cached. */
  item(projectId: string, providerId: string, id: string): CheckpointItem | null | undefined;
  setItem(projectId: string, providerId: string, id: string, item: CheckpointItem | null): void;
  server(projectId: string, id: string): ServerFacts | undefined;
  setServer(projectId: string, id: string, facts: ServerFacts): void;
  provider(id: string): boolean | undefined;
  setProvider(id: string, known: boolean): void;
  stats(): FactsCacheStats;
}

export interface FactsCacheOptions {
  /** Most cached items, and most cached servers (0: nothing is cached). */
  maxEntries: number;
}

/** STORE_CACHE_ENTRIES' default. */
export const STORE_CACHE_ENTRIES = 10_000;

/** Keys: ids never hold a NUL. */
const key = (...parts: string[]) => parts.join("\0");
/** Providers are a static table; a bound on them only guards against a flood of unknown ids. */
const MAX_PROVIDERS = 64;

export function createFactsCache(options: FactsCacheOptions): FactsCache {
  const max = Math.max(1, options.maxEntries);
  const enabled = options.maxEntries > 0;
  const items = new LRUCache<string, { value: CheckpointItem | null }>({ max });
  const servers = new LRUCache<string, ServerFacts>({ max });
  const providers = new Map<string, boolean>();
  let version: number | undefined;
  let generation = 0;
  const counts = { hits: 0, misses: 0 };

  const clear = () => {
    generation++;
    items.clear();
    servers.clear();
    providers.clear();
  };
  const counted = <T>(found: T | undefined): T | undefined => {
    if (found === undefined) counts.misses++;
    else counts.hits++;
    return found;
  };

  return {
    enabled,
    sync(next) {
      if (next !== version) {
        clear();
        version = next;
      }
    },
    clear,
    generation: () => generation,
    item: (projectId, providerId, id) => counted(items.get(key(projectId, providerId, id)))?.value,
    setItem(projectId, providerId, id, item) {
      items.set(key(projectId, providerId, id), { value: item });
    },
    server: (projectId, id) => counted(servers.get(key(projectId, id))),
    setServer(projectId, id, facts) {
      servers.set(key(projectId, id), facts);
    },
    provider: (id) => providers.get(id),
    setProvider(id, known) {
      if (providers.size >= MAX_PROVIDERS) providers.clear();
      providers.set(id, known);
    },
    stats: () => ({ ...counts, entries: items.size + servers.size }),
  };
}

/**
 * A fetch of more ids than this (a large batch) is not kept: storing it would cost more than
 * it reads (about 5 µs an object: 100-entry batches at 1M items, store alone, 9 interleaved
 * rounds, p50 4.9 ms without keeping, 5.4 ms keeping) and would push out the objects of the
 * small, repeated checks the cache is for. What a large batch finds in the cache it still uses.
 */
const KEEP_AT_MOST = 32;

/** What a store read from its database for the ids the cache lacked. */
export interface FetchedFacts {
  providerKnown: boolean;
  /** The items found among the ids asked for. */
  items: Map<string, CheckpointItem>;
  /** The servers and attached volumes found among the ids asked for (an id with neither may be absent). */
  servers: Map<string, ServerFacts>;
}

const NO_SERVER: ServerFacts = Object.freeze({ server: undefined, volumes: [] as Volume[] }) as ServerFacts;

/**
 * One check's facts through the cache: what it holds, and one `fetch` for the rest (the
 * items and servers it lacks; both lists empty when only the provider is unknown), kept for
 * the next checks when `mayKeep()` and no clear happened while the fetch ran.
 */
export async function readThrough(
  cache: FactsCache,
  { projectId, providerId, checkpointItemIds, serverIds }: CheckLookup,
  fetch: (itemIds: string[], serverIds: string[]) => FetchedFacts | Promise<FetchedFacts>,
  mayKeep: () => boolean = () => true,
): Promise<CheckFacts> {
  const facts: CheckFacts = { providerKnown: false, items: new Map(), servers: new Map(), volumes: new Map() };
  if (!cache.enabled) {
    const fetched = await fetch([...checkpointItemIds], [...serverIds]);
    facts.providerKnown = fetched.providerKnown;
    facts.items = fetched.items;
    for (const [id, found] of fetched.servers) addServer(facts, id, found);
    return facts;
  }
  const missingItems: string[] = [];
  for (const id of checkpointItemIds) {
    const hit = cache.item(projectId, providerId, id);
    if (hit === undefined) missingItems.push(id);
    else if (hit !== null) facts.items.set(id, hit);
  }
  const missingServers: string[] = [];
  for (const id of serverIds) {
    const hit = cache.server(projectId, id);
    if (hit === undefined) missingServers.push(id);
    else addServer(facts, id, hit);
  }
  const known = cache.provider(providerId);
  if (missingItems.length === 0 && missingServers.length === 0 && known !== undefined) {
    facts.providerKnown = known;
    return facts;
  }
  const generation = cache.generation();
  const pending = fetch(missingItems, missingServers);
  const fetched = pending instanceof Promise ? await pending : pending;
  const keep =
    missingItems.length + missingServers.length <= KEEP_AT_MOST && mayKeep() && cache.generation() === generation;
  facts.providerKnown = fetched.providerKnown;
  if (keep) cache.setProvider(providerId, fetched.providerKnown);
  for (const id of missingItems) {
    const item = fetched.items.get(id);
    if (item !== undefined) facts.items.set(id, item);
    if (keep) cache.setItem(projectId, providerId, id, item ?? null);
  }
  for (const id of missingServers) {
    const found = fetched.servers.get(id) ?? NO_SERVER;
    addServer(facts, id, found);
    if (keep) cache.setServer(projectId, id, found);
  }
  return facts;
}

/** A server's facts into one check's. */
function addServer(facts: CheckFacts, id: string, found: ServerFacts): void {
  if (found.server !== undefined) facts.servers.set(id, found.server);
  if (found.volumes.length > 0) facts.volumes.set(id, found.volumes);
}

/** A bulk import that empties the cache when it ends (committed or not): its merge is a write of the owner's. */
export function clearingAfter(bulk: BulkImport, cache: FactsCache): BulkImport {
  const cleared =
    <A extends unknown[], T>(run: (...args: A) => Promise<T>) =>
    async (...args: A): Promise<T> => {
      try {
        return await run(...args);
      } finally {
        cache.clear();
      }
    };
  return { ...bulk, commit: cleared(bulk.commit), abort: cleared(bulk.abort) };
}
