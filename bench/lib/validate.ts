import { fromBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CheckRestorableResponseSchema } from "../../gen/csbs/v1/resource_service_pb.js";
import type { DemoCase } from "./fixtures.js";
import type { Target } from "./loadgen.js";

/** The verdicts a scenario's request must get (checked once before its load). */
export interface Expectation {
  results: { result: boolean; error_code: string }[];
}

export function expectOf(cases: DemoCase[]): Expectation {
  return { results: cases.map((c) => ({ result: c.expected.result, error_code: c.expected.error_code })) };
}

export const allRestorable = (n: number): Expectation => ({
  results: Array.from({ length: n }, () => ({ result: true, error_code: "" })),
});

function compare(what: string, got: { result: boolean; error_code: string }[], want: Expectation): void {
  const bad =
    got.length !== want.results.length ||
    got.some((g, i) => g.result !== want.results[i]!.result || g.error_code !== want.results[i]!.error_code);
  if (bad) {
    throw new Error(
      `bench: ${what}: unexpected answer ${JSON.stringify(got).slice(0, 400)}; expected ${JSON.stringify(want.results).slice(0, 400)}`,
    );
  }
}

async function validateHttp(what: string, target: Target & { kind: "http" }, want: Expectation, connect = false) {
  const res = await fetch(target.url, { method: "POST", headers: target.headers, body: target.bodies[0] });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`bench: ${what}: HTTP ${res.status}: ${text.slice(0, 400)}`);
  const json = JSON.parse(text) as { restorable: { result?: boolean; error_code?: string; errorCode?: string }[] };
  compare(
    what,
    json.restorable.map((r) => ({
      result: r.result ?? false,
      error_code: (connect ? r.errorCode : r.error_code) ?? "",
    })),
    want,
  );
}

async function validateGrpc(what: string, target: Target & { kind: "grpc" }, want: Expectation) {
  const client = new grpc.Client(`127.0.0.1:${target.port}`, grpc.credentials.createInsecure());
  try {
    const md = new grpc.Metadata();
    md.set("x-auth-token", target.token);
    const answer = await new Promise<Buffer>((resolve, reject) =>
      client.makeUnaryRequest(
        target.path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(target.message),
        md,
        { deadline: Date.now() + 10_000 },
        (err, res) => (err ? reject(new Error(`bench: ${what}: ${err.message}`)) : resolve(res!)),
      ),
    );
    const message = fromBinary(CheckRestorableResponseSchema, answer);
    compare(
      what,
      message.restorable.map((r) => ({ result: r.result, error_code: r.errorCode })),
      want,
    );
  } finally {
    client.close();
  }
}

/** Sends one request of each target and checks the verdicts against `expect`. */
export async function validate(id: string, target: Target | Target[], expect: Expectation): Promise<void> {
  const targets = Array.isArray(target) ? target : [target];
  for (const t of targets) {
    if (t.kind === "grpc") await validateGrpc(id, t, expect);
    else await validateHttp(id, t, expect, t.url.includes("/csbs.v1."));
  }
}
