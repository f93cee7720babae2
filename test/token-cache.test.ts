import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuthError } from "../src/auth/auth-error.js";
import { type Authenticator, createAuthenticator } from "../src/auth/authenticator.js";
import { mintToken } from "../src/auth/mint-token.js";
import { cacheVerifiedTokens } from "../src/auth/token-cache.js";
import { loadConfig } from "../src/server/config.js";

const SECRET = "token-cache-test-secret-0123456789abcdef";

/** The real HS256 authenticator, with a count of the verifications it performs. */
function counted(): { authenticator: Authenticator; verifications: () => number } {
  const real = createAuthenticator(loadConfig({ AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_SECONDS: "0" }).auth);
  let n = 0;
  return {
    authenticator: {
      authenticate(token) {
        n++;
        return real.authenticate(token);
      },
    },
    verifications: () => n,
  };
}

describe("verified-token cache", () => {
  // Fake clocks instead of sleeps: Date (the token's exp, jose's clock) moves only when the
  // test advances it. lru-cache keeps its own reference to the global `performance` object for
  // its TTL clock, so its now() is pointed at the fake Date.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    vi.spyOn(performance, "now").mockImplementation(() => Date.now());
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it("a token verified once is not verified again while cached", async () => {
    const { authenticator, verifications } = counted();
    const cached = cacheVerifiedTokens(authenticator, { max: 100, ttlMs: 60_000 });
    const token = await mintToken({ secret: SECRET, projectId: "p1", roles: ["r"], ttl: "5m" });
    const first = await cached.authenticate(token);
    const second = await cached.authenticate(token);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ projectId: "p1", roles: ["r"] });
    expect(verifications()).toBe(1);
  });

  it("never past the token's exp: an expired token is verified again and refused", async () => {
    const { authenticator, verifications } = counted();
    const cached = cacheVerifiedTokens(authenticator, { max: 100, ttlMs: 60_000 });
    const token = await mintToken({ secret: SECRET, projectId: "p1", ttl: "2s" });
    await cached.authenticate(token);
    vi.advanceTimersByTime(2100);
    await expect(cached.authenticate(token)).rejects.toBeInstanceOf(AuthError);
    expect(verifications()).toBe(2);
  });

  it("never past ttlMs, failures are not cached, size 0 turns it off", async () => {
    const { authenticator, verifications } = counted();
    const shortLived = cacheVerifiedTokens(authenticator, { max: 100, ttlMs: 50 });
    const token = await mintToken({ secret: SECRET, projectId: "p1", ttl: "5m" });
    await shortLived.authenticate(token);
    vi.advanceTimersByTime(80);
    await shortLived.authenticate(token);
    expect(verifications()).toBe(2);

    await expect(shortLived.authenticate("a.b.c")).rejects.toBeInstanceOf(AuthError);
    await expect(shortLived.authenticate("a.b.c")).rejects.toBeInstanceOf(AuthError);
    expect(verifications()).toBe(4);

    const off = cacheVerifiedTokens(authenticator, { max: 0, ttlMs: 60_000 });
    await off.authenticate(token);
    await off.authenticate(token);
    expect(verifications()).toBe(6);
  });
});
