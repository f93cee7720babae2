import { LRUCache } from "lru-cache";
import type { CheckpointItem, Server, Volume } from "../domain/types.js";

/** What a check reads of one requested server id: the server (if it exists) and the volumes attached to that id. */
export interface ServerFacts {
  server: Server | undefined;
  volumes: Volume[];
}

/** Counts since start, for the metrics (read at scrape time). */
export interface FactsCacheStats {
  hits: number;
  misses: number;
  clears: number;
  entries: number;
}

/**
 * The objects one store instance read for recent checks, by id, so that a repeated check
 * reads no rows: checkpoint items with their backups (or their absence), servers with their
 * attached volumes (or their absence), providers. Bounded: at most `maxEntries` items and as
 * many servers, least recently used first out.
 *
 * Exact, never stale: the owner calls `sync` with the database's version before every read
 * (SQLite's `PRAGMA data_version`, which changes when another connection commits) and
 * `clear` after every write of its own, so nothing cached is older than the last committed
 * write. What it holds is shared by every check that reads it: read-only.
 */
export interface FactsCache {
  /** Forgets everything when `version` is not the one the cached facts were read at. */
  sync(version: number): void;
  /** Forgets everything (after a write of the owner's). */
  clear(): void;
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
  const counts = { hits: 0, misses: 0, clears: 0 };

  const clear = () => {
    if (items.size > 0 || servers.size > 0 || providers.size > 0) counts.clears++;
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
    sync(next) {
      if (next !== version) {
        clear();
        version = next;
      }
    },
    clear,
    item: (projectId, providerId, id) => counted(items.get(key(projectId, providerId, id)))?.value,
    setItem(projectId, providerId, id, item) {
      if (enabled) items.set(key(projectId, providerId, id), { value: item });
    },
    server: (projectId, id) => counted(servers.get(key(projectId, id))),
    setServer(projectId, id, facts) {
      if (enabled) servers.set(key(projectId, id), facts);
    },
    provider: (id) => providers.get(id),
    setProvider(id, known) {
      if (!enabled) return;
      if (providers.size >= MAX_PROVIDERS) providers.clear();
      providers.set(id, known);
    },
    stats: () => ({ ...counts, entries: items.size + servers.size }),
  };
}
