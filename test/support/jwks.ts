import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import * as jose from "jose";

/** An ES256 key pair with its public JWK (kid, alg, use set), as an identity provider has. */
export interface SigningKey {
  kid: string;
  privateKey: jose.CryptoKey;
  publicKey: jose.CryptoKey;
  publicJwk: jose.JWK;
}

export async function createSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair("ES256", { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return { kid, privateKey, publicKey, publicJwk };
}

export function jwksOf(keys: ReadonlyArray<SigningKey>): jose.JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}

/** Writes the public keys as a JWKS file in `dir`; returns its path. */
export function writeJwksFile(dir: string, keys: ReadonlyArray<SigningKey>): string {
  const file = join(dir, "jwks.json");
  writeFileSync(file, JSON.stringify(jwksOf(keys)));
  return file;
}

export interface JwksServer {
  /** http://127.0.0.1:PORT/.well-known/jwks.json */
  url: string;
  /** The keys served from now on (rotation). */
  setKeys(keys: ReadonlyArray<SigningKey>): void;
  /** While set, every request is answered with this status and no key set. */
  failWith(status: number | undefined): void;
  /** How many times the key set was requested. */
  readonly fetches: number;
  close(): Promise<void>;
}

/** Serves a JWKS over HTTP on a free port, as an identity provider's jwks_uri. */
export async function startJwksServer(initial: ReadonlyArray<SigningKey>): Promise<JwksServer> {
  let keys = [...initial];
  let failure: number | undefined;
  let fetches = 0;
  const server = http.createServer((req, res) => {
    fetches++;
    if (failure !== undefined) {
      res.writeHead(failure, { "content-type": "text/plain" }).end("unavailable");
    } else if (req.method === "GET" && req.url === "/.well-known/jwks.json") {
      res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify(jwksOf(keys)));
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    setKeys(next) {
      keys = [...next];
    },
    failWith(status) {
      failure = status;
    },
    get fetches() {
      return fetches;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
