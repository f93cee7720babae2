/** The outcome of one check: passing, or the code and message of the first rule that failed. */
export type Verdict = { ok: true } | { ok: false; code: string; message: string };

export const PASS: Verdict = Object.freeze({ ok: true });

/** Fills each `%s` of a message template with the next argument. */
export function fill(template: string, ...args: ReadonlyArray<string | number>): string {
  let i = 0;
  return template.replace(/%s/g, () => String(args[i++] ?? ""));
}

export function fail(code: string, template: string, ...args: ReadonlyArray<string | number>): Verdict {
  return { ok: false, code, message: fill(template, ...args) };
}
