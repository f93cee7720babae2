import { LRUCache } from "lru-cache";
import type { Authenticator } from "./authenticator.js";
import type { Principal } from "./principal.js";

export interface TokenCacheOptions {
  /** Verified tokens kept (0 turns the cache off). */
  max: number;
  /** Longest time a verified token is trusted without verifying it again, in ms. */
  ttlMs: number;
}

/**
 * Remembers verified tokens, so a caller's repeated requests cost a map lookup instead of a
 * signature verification (~140 µs for HS256 here). An entry lives at most `ttlMs` and never
 * past the token's own `exp`; failures are never cached.
 */
export function cacheVerifiedTokens(authenticator: Authenticator, options: TokenCacheOptions): Authenticator {
  if (options.max <= 0) return authenticator;
  const cache = new LRUCache<string, Principal>({ max: options.max, ttl: options.ttlMs, ttlAutopurge: false });
  return {
    async authenticate(token) {
      if (token) {
        const hit = cache.get(token);
        if (hit !== undefined && hit.expiresAt > Date.now()) return hit;
      }
      const principal = await authenticator.authenticate(token);
      const ttl = Math.min(options.ttlMs, principal.expiresAt - Date.now());
      if (token && ttl > 0) cache.set(token, principal, { ttl });
      return principal;
    },
  };
}
