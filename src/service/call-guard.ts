import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, createContextKey, type ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AuthError } from "../auth/auth-error.js";
import { type Authenticator, authorize } from "../auth/authenticator.js";
import type { Principal } from "../auth/principal.js";
import { validateProjectId } from "../domain/request-validation.js";
import { StoreUnavailableError } from "../store/store.js";
import type { CancellationSignal } from "./call-cancellation.js";
import { csbsError } from "./csbs-error.js";

/** The header (gRPC: metadata) that carries the caller's token. */
export const AUTH_HEADER = "x-auth-token";
export const REQUEST_ID_HEADER = "x-request-id";

/**
 * A host that verified the call's token from its headers before reading the body
 * (`CallGuard.verifyFirst`) hands the outcome to the guard in the context values, so the
 * token is verified once per call; the guard still maps a refusal to its error.
 */
export const VERIFIED_TOKEN = createContextKey<Promise<Principal> | undefined>(undefined, {
  description: "the token verified before the body was read",
});

export interface CallGuardOptions {
  authenticator: Authenticator;
  logger: Logger;
  /** Calls in flight (all protocols) above which a call is refused at once with 503 / RESOURCE_EXHAUSTED. */
  maxConcurrent?: number;
  /** Server-side maximum duration of a call; a shorter client deadline wins. */
  requestTimeoutMs?: number;
}

/**
 * What the guard reads of a call: two headers (the token, the request id), its cancellation,
 * the client's deadline and the `VERIFIED_TOKEN` value. A connect-es HandlerContext is one
 * (the Connect and gRPC-Web host); the REST gateway and the grpc-js host pass lighter objects
 * of their own.
 */
export interface CallContext {
  readonly requestHeader: { get(name: string): string | null };
  /** Aborted when the caller goes away (a host without cancellation passes none). */
  readonly signal?: CancellationSignal | undefined;
  /** The client's deadline, if it set one. */
  timeoutMs(): number | undefined;
  readonly values?: Pick<ContextValues, "get"> | undefined;
}

/**
 * A connect-es ServiceImpl whose methods read only their call's CallContext (all the guard
 * needs): the Connect router passes its HandlerContext (one is a CallContext), the grpc-js
 * host a lighter context of its own (no Headers, no linked signals per call).
 */
export type GuardedServiceImpl<S extends DescService> = {
  [M in keyof ServiceImpl<S>]: (
    request: Parameters<ServiceImpl<S>[M]>[0],
    ctx: CallContext,
  ) => ReturnType<ServiceImpl<S>[M]>;
};

/**
 * The one call path every protocol goes through: the grpc-js host and the Connect handlers
 * reach it through the ServiceImpl, the REST gateway calls it directly around the use case.
 */
export interface CallGuard {
  /**
   * Runs a call: admission (concurrency limit), then, within the call's deadline, the token
   * (401), the project id's form (400), project scope and role (403), then the body; every
   * failure mapped to a ConnectError with a CSBS ErrorInfo.
   */
  run<T>(ctx: CallContext, projectId: string, role: string | undefined, body: (p: Principal) => Promise<T>): Promise<T>;
  /**
   * Verifies a call's token from its headers before a host reads its message, as the first
   * step of the call: admitted (503 when over the limit) and within the call's deadline, as
   * in `run`. Its failure is not yet mapped: the host hands the promise to `run` through
   * `VERIFIED_TOKEN`, which maps and answers it.
   */
  verifyFirst(ctx: CallContext): Promise<Principal>;
  /** Calls admitted and not finished (the in-flight gauge reads it at scrape time). */
  inFlight(): number;
}

export function createCallGuard(options: CallGuardOptions): CallGuard {
  const { authenticator, logger } = options;
  const maxConcurrent = options.maxConcurrent ?? Number.POSITIVE_INFINITY;
  const requestTimeoutMs = options.requestTimeoutMs ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;

  async function authenticate(ctx: CallContext, projectId: string, role: string | undefined) {
    const principal = await (ctx.values?.get(VERIFIED_TOKEN) ??
      authenticator.authenticate(ctx.requestHeader.get(AUTH_HEADER)));
    const projectCheck = validateProjectId(projectId);
    if (!projectCheck.ok) throw csbsError("invalid_argument", projectCheck.message);
    authorize(principal, projectId, role);
    return principal;
  }

  /** Admission (503 over the limit) and the call's deadline, around one step of a call. */
  async function admitted<T>(ctx: CallContext, work: () => Promise<T>): Promise<T> {
    if (inFlight >= maxConcurrent) {
      throw csbsError("overloaded", `the service is overloaded (${inFlight} requests in flight), try again later`);
    }
    inFlight++;
    try {
      return await withDeadline(work(), ctx.signal, Math.min(ctx.timeoutMs() ?? requestTimeoutMs, requestTimeoutMs));
    } finally {
      inFlight--;
    }
  }

  return {
    verifyFirst(ctx) {
      return admitted(ctx, () => authenticator.authenticate(ctx.requestHeader.get(AUTH_HEADER)));
    },
    inFlight: () => inFlight,
    async run(ctx, projectId, role, body) {
      try {
        return await admitted(ctx, () => authenticate(ctx, projectId, role).then(body));
      } catch (error) {
        throw toConnectError(error, logger, ctx.requestHeader.get(REQUEST_ID_HEADER));
      }
    },
  };
}

/** Settles with the work, or fails when the call is cancelled (if it can be) or its deadline passes. */
function withDeadline<T>(work: Promise<T>, signal: CancellationSignal | undefined, ms: number): Promise<T> {
  if (signal?.aborted) {
    // The work's own failure (e.g. a pre-verified token's refusal) is superseded, not unhandled.
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  if (!Number.isFinite(ms)) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(csbsError("deadline_exceeded", `the request did not finish within ${ms} ms`)),
      ms,
    );
    const onAbort = () => finish(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    function finish(error: unknown) {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    }
    work.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => finish(error),
    );
  });
}

function toConnectError(error: unknown, logger: Logger, requestId: string | null | undefined): ConnectError {
  if (error instanceof AuthError) return csbsError(error.kind, error.message);
  if (error instanceof StoreUnavailableError) {
    logger.warn({ err: error, request_id: requestId }, "store unavailable");
    return csbsError("unavailable", "the store is unreachable, try again later", error);
  }
  if (error instanceof ConnectError) {
    // A deadline or cancellation raised by connect itself: give it the CSBS ErrorInfo too.
    if (error.code === Code.DeadlineExceeded && error.findDetails(ErrorInfoSchema).length === 0) {
      return csbsError("deadline_exceeded", error.rawMessage, error);
    }
    return error;
  }
  logger.error({ err: error, request_id: requestId }, "unexpected failure");
  return csbsError("internal", "check resource failed", error);
}
