/**
 * The service's store cache counters, from its GET /metrics (HTTP port): scraped before and
 * after a run, they say what share of the run's lookups the cache answered, so a reader sees
 * whether a number is cache-served. The bench's services run with METRICS_TOKEN set (lib/servers.ts).
 */
import type { Server } from "./servers.js";

/** Lookups of objects (checkpoint items, servers) in the store's cache, counted since start. */
export interface CacheLookups {
  hits: number;
  misses: number;
}

const SAMPLE = /^csbs_store_cache_lookups_total\{[^}]*result="(hit|miss)"[^}]*\}\s+(\S+)/gm;

/**
 * One server's counters; undefined when it has no metrics (a ceiling), its store has no cache
 * (PostgreSQL: no samples) or the scrape failed: the report then shows –, and the run goes on.
 */
async function scrape(server: Server): Promise<CacheLookups | undefined> {
  if (!server.metrics) return undefined;
  try {
    const res = await fetch(server.metrics.url, {
      headers: { authorization: `Bearer ${server.metrics.token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status !== 200) return undefined;
    const text = await res.text();
    const found: Partial<Record<"hit" | "miss", number>> = {};
    for (const [, result, value] of text.matchAll(SAMPLE)) found[result as "hit" | "miss"] = Number(value);
    if (found.hit === undefined && found.miss === undefined) return undefined;
    return { hits: found.hit ?? 0, misses: found.miss ?? 0 };
  } catch {
    return undefined;
  }
}

/** The counters of the servers, summed; undefined when none of them has a store cache. */
export async function cacheLookups(servers: Server[]): Promise<CacheLookups | undefined> {
  const all = (await Promise.all(servers.map(scrape))).filter((x) => x !== undefined);
  if (all.length === 0) return undefined;
  return all.reduce((a, b) => ({ hits: a.hits + b.hits, misses: a.misses + b.misses }));
}

/** The lookups between two scrapes, and the share the cache answered (NaN when there were none). */
export function cacheDelta(
  before: CacheLookups | undefined,
  after: CacheLookups | undefined,
): { cacheHits: number; cacheMisses: number; cacheHitShare: number } | undefined {
  if (!before || !after) return undefined;
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  return {
    cacheHits: hits,
    cacheMisses: misses,
    cacheHitShare: hits + misses > 0 ? hits / (hits + misses) : Number.NaN,
  };
}
