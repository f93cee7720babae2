import { readFileSync } from "node:fs";

export interface Expected {
  result: boolean;
  error_code: string;
  error_msg: string;
}
export interface RestoreCase {
  name: string;
  rule: number | null;
  request: {
    checkpoint_item_id: string;
    target: { resource_id: string; resource_type: string; volumes: { backup_id: string; volume_id: string }[] };
  };
  expected: Expected;
}
export interface ProtectCase {
  name: string;
  rule: number | null;
  request: { resource_id: string; resource_type: string };
  expected: Expected;
}
/** An entry's answer with explain (docs/contract.md §8), snake_case as over REST. */
export interface ExplainExpected extends Expected {
  failures: { rule: number; error_code: string; error_msg: string }[];
  suggested_volumes: { backup_id: string; volume_id: string }[];
}
export interface ExplainRestoreCase {
  name: string;
  request: RestoreCase["request"];
  expected: ExplainExpected;
}
export interface ExplainProtectCase {
  name: string;
  request: ProtectCase["request"];
  expected: ExplainExpected;
}
export interface DemoCases {
  project_id: string;
  other_project_id: string;
  provider_id: string;
  foreign: { checkpoint_item_id: string; server_id: string; mapping: { backup_id: string; volume_id: string }[] };
  restore: RestoreCase[];
  protect: ProtectCase[];
  /** Entries with several failures and a suggested mapping, with their explain answers. */
  explain: { restore: ExplainRestoreCase[]; protect: ExplainProtectCase[] };
}

/** The shared table of rule cases (data/demo-cases.json, built with data/demo-inventory.json). */
export const demoCases: DemoCases = JSON.parse(
  readFileSync(new URL("../../data/demo-cases.json", import.meta.url), "utf8"),
) as DemoCases;
