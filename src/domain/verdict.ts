/** The outcome of one check: passing, or the code and message of the first rule that failed. */
export type Verdict = { ok: true } | { ok: false; code: string; message: string };

/** One failing rule of an entry: its number (docs/contract.md §5 or §6), CSBS code and filled-in message. */
export interface RuleFailure {
  rule: number;
  code: string;
  message: string;
}

/**
 * How many failures a rule list reports: `first` stops at the first failure (the verdict,
 * the default answer); `all` evaluates every rule whose objects exist (explain, docs/contract.md §8).
 */
export type RuleMode = "first" | "all";

const PASS: Verdict = Object.freeze({ ok: true });

/** Fills each `%s` of a message template with the next argument. */
export function fill(template: string, ...args: ReadonlyArray<string | number>): string {
  let i = 0;
  return template.replace(/%s/g, () => String(args[i++] ?? ""));
}

/** A failure of rule `rule`. */
export function ruleFailure(
  rule: number,
  code: string,
  template: string,
  ...args: ReadonlyArray<string | number>
): RuleFailure {
  return { rule, code, message: fill(template, ...args) };
}

/** The verdict of a rule list: its first failure, or PASS. */
export function verdictOf(failures: ReadonlyArray<RuleFailure>): Verdict {
  const first = failures[0];
  return first === undefined ? PASS : { ok: false, code: first.code, message: first.message };
}
