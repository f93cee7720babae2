import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import { demoCases } from "./demo-cases.js";

/** One HTTP/1.1 exchange, as raw as the tests need it. */
export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body exactly as sent. */
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface HttpOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  /** A string or bytes body, or a value to send as JSON text. */
  body?: string | Buffer | object;
}

/**
 * Sends one request with node:http (no connection reuse, no header added that the caller
 * did not ask for, except Host and Content-Length).
 */
export function httpRequest(baseUrl: string, path: string, options: HttpOptions = {}): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string" || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? "POST",
        agent: false,
        headers: {
          // A body gets a Content-Length unless the caller asks for chunked transfer.
          ...(body !== undefined && options.headers?.["transfer-encoding"] === undefined
            ? { "content-length": Buffer.byteLength(body) }
            : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The documented REST path. */
export function actionPath(projectId: string = demoCases.project_id, providerId: string = demoCases.provider_id) {
  return `/v1/${projectId}/providers/${providerId}/resources/action`;
}

/** POST a JSON body to the action path with a token. */
export function postAction(
  baseUrl: string,
  token: string | undefined,
  body: string | Buffer | object,
  options: { path?: string; headers?: OutgoingHttpHeaders } = {},
): Promise<HttpResult> {
  return httpRequest(baseUrl, options.path ?? actionPath(), {
    body,
    headers: {
      "content-type": "application/json",
      ...(token !== undefined ? { "x-auth-token": token } : {}),
      ...options.headers,
    },
  });
}
