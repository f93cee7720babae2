import { describe, expect, it } from "vitest";
import type { ProtectEntry } from "../src/domain/protect-rules.js";
import {
  isUuid,
  type RequestLimits,
  type RestoreEntryInput,
  validateProjectId,
  validateProtectEntries,
  validateProviderId,
  validateRestoreEntries,
} from "../src/domain/request-validation.js";

/** Request validation: every failure names its field path (docs/contract.md §1 and §2). */

const LIMITS: RequestLimits = { maxCheckItems: 100, maxVolumes: 64 };
const U = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
const NOVA = "OS::Nova::Server";

function entry(over: Partial<RestoreEntryInput> = {}, volumes = 1): RestoreEntryInput {
  return {
    checkpointItemId: U(1),
    target: {
      resourceId: U(2),
      resourceType: NOVA,
      volumes: Array.from({ length: volumes }, (_, i) => ({ backupId: U(1000 + i), volumeId: U(2000 + i) })),
    },
    ...over,
  };
}

function withTarget(over: Partial<NonNullable<RestoreEntryInput["target"]>>): RestoreEntryInput {
  const e = entry();
  return { ...e, target: { ...e.target!, ...over } };
}

describe("isUuid", () => {
  it.each([
    [U(1), true],
    ["8986ce68-3da7-4d29-9cc2-1921e9504975", true],
    ["", false],
    ["not-a-uuid", false],
    ["8986ce683da74d299cc21921e9504975", false],
    ["{8986ce68-3da7-4d29-9cc2-1921e9504975}", false],
    ["urn:uuid:8986ce68-3da7-4d29-9cc2-1921e9504975", false],
    [" 8986ce68-3da7-4d29-9cc2-1921e9504975", false],
    ["8986ce68-3da7-4d29-9cc2-1921e9504975\n", false],
    ["8986ce68-3da7-4d29-9cc2-1921e950497g", false],
    ["8986ce68-3da7-4d29-9cc2-1921e95049755", false],
  ])("%j → %s", (value, ok) => {
    expect(isUuid(value)).toBe(ok);
  });
});

describe("validateProjectId: 1-64 characters of [A-Za-z0-9-]", () => {
  it.each(["demo-project", "a", "A-Z-0-9", "x".repeat(64), "0123456789abcdef0123456789abcdef"])("%j is valid", (p) => {
    expect(validateProjectId(p)).toEqual({ ok: true });
  });

  it.each([
    ["", "project_id: is required"],
    ["x".repeat(65), "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
    ["demo_project", "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
    ["demo project", "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
    ["demo.project", "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
    ["démo", "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
    ["demo\n", "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
    ["../etc", "project_id: must be 1-64 characters of [A-Za-z0-9-]"],
  ])("%j → %j", (p, message) => {
    expect(validateProjectId(p)).toEqual({ ok: false, field: "project_id", message });
  });
});

describe("validateProviderId", () => {
  it.each([
    ["", "provider_id: is required"],
    ["csbs", "provider_id: must be a UUID"],
    ["fc4d5750-22e7-4798-a46-f48f62c4c1da", "provider_id: must be a UUID"],
  ])("%j → %j", (p, message) => {
    expect(validateProviderId(p)).toEqual({ ok: false, field: "provider_id", message });
  });

  it("a UUID is valid (whether or not such a provider exists is the service's lookup)", () => {
    expect(validateProviderId(U(9))).toEqual({ ok: true });
  });
});

describe("validateRestoreEntries: field paths", () => {
  const cases: ReadonlyArray<{ name: string; entries: RestoreEntryInput[]; field: string; message: string }> = [
    { name: "empty list", entries: [], field: "check_restorable", message: "must not be empty" },
    {
      name: "101 entries",
      entries: Array.from({ length: 101 }, () => entry()),
      field: "check_restorable",
      message: "must have at most 100 entries",
    },
    {
      name: "missing checkpoint_item_id",
      entries: [entry({ checkpointItemId: "" })],
      field: "check_restorable[0].checkpoint_item_id",
      message: "is required",
    },
    {
      name: "non-UUID checkpoint_item_id",
      entries: [entry(), entry({ checkpointItemId: "item-1" })],
      field: "check_restorable[1].checkpoint_item_id",
      message: "must be a UUID",
    },
    {
      name: "missing target",
      entries: [entry(), entry(), entry({ target: undefined })],
      field: "check_restorable[2].target",
      message: "is required",
    },
    {
      name: "missing target.resource_id",
      entries: [withTarget({ resourceId: "" })],
      field: "check_restorable[0].target.resource_id",
      message: "is required",
    },
    {
      name: "non-UUID target.resource_id",
      entries: [withTarget({ resourceId: "server-1" })],
      field: "check_restorable[0].target.resource_id",
      message: "must be a UUID",
    },
    {
      name: "missing target.resource_type",
      entries: [withTarget({ resourceType: "" })],
      field: "check_restorable[0].target.resource_type",
      message: "is required",
    },
    {
      name: "empty target.volumes",
      entries: [withTarget({ volumes: [] })],
      field: "check_restorable[0].target.volumes",
      message: "must not be empty",
    },
    {
      name: "65 volume mappings",
      entries: [entry({}, 65)],
      field: "check_restorable[0].target.volumes",
      message: "must have at most 64 entries",
    },
    {
      name: "missing backup_id",
      entries: [withTarget({ volumes: [{ backupId: "", volumeId: U(5) }] })],
      field: "check_restorable[0].target.volumes[0].backup_id",
      message: "is required",
    },
    {
      name: "non-UUID volume_id (the contract's example path)",
      entries: [entry(), entry(), withTarget({ volumes: [{ backupId: U(4), volumeId: "vol-1" }] })],
      field: "check_restorable[2].target.volumes[0].volume_id",
      message: "must be a UUID",
    },
    {
      name: "duplicate backup_id within a target",
      entries: [
        withTarget({
          volumes: [
            { backupId: U(4), volumeId: U(5) },
            { backupId: U(4), volumeId: U(6) },
          ],
        }),
      ],
      field: "check_restorable[0].target.volumes[1].backup_id",
      message: "duplicate backup_id in this target",
    },
    {
      name: "duplicate volume_id within a target",
      entries: [
        withTarget({
          volumes: [
            { backupId: U(4), volumeId: U(5) },
            { backupId: U(6), volumeId: U(7) },
            { backupId: U(8), volumeId: U(5) },
          ],
        }),
      ],
      field: "check_restorable[0].target.volumes[2].volume_id",
      message: "duplicate volume_id in this target",
    },
    {
      name: "the first bad entry is reported",
      entries: [entry(), withTarget({ resourceId: "x" }), entry({ checkpointItemId: "y" })],
      field: "check_restorable[1].target.resource_id",
      message: "must be a UUID",
    },
    {
      name: "within an entry, fields are checked in document order",
      entries: [{ checkpointItemId: "x", target: { resourceId: "y", resourceType: "", volumes: [] } }],
      field: "check_restorable[0].checkpoint_item_id",
      message: "must be a UUID",
    },
  ];

  it.each(cases)("$name → $field: $message", ({ entries, field, message }) => {
    expect(validateRestoreEntries(entries, LIMITS)).toEqual({ ok: false, field, message: `${field}: ${message}` });
  });

  it.each([
    { name: "one entry", entries: [entry()] },
    { name: "100 entries (the default limit)", entries: Array.from({ length: 100 }, () => entry()) },
    { name: "64 volume mappings (the limit)", entries: [entry({}, 64)] },
    {
      name: "an unknown resource_type (a per-entry CSBS.6013, not a request error)",
      entries: [withTarget({ resourceType: "OS::Cinder::Volume" })],
    },
    { name: "the same ids in two different entries", entries: [entry(), entry()] },
  ])("$name is valid", ({ entries }) => {
    expect(validateRestoreEntries(entries, LIMITS)).toEqual({ ok: true });
  });

  it("the limits are the configured ones", () => {
    const small: RequestLimits = { maxCheckItems: 2, maxVolumes: 1 };
    expect(validateRestoreEntries([entry(), entry(), entry()], small)).toMatchObject({
      message: "check_restorable: must have at most 2 entries",
    });
    expect(validateRestoreEntries([entry({}, 2)], small)).toMatchObject({
      message: "check_restorable[0].target.volumes: must have at most 1 entries",
    });
    expect(validateRestoreEntries([entry(), entry()], small)).toEqual({ ok: true });
  });
});

describe("validateProtectEntries: field paths", () => {
  const ok: ProtectEntry = { resourceId: U(2), resourceType: NOVA };
  it.each([
    { name: "empty list", entries: [], field: "check_protectable", message: "must not be empty" },
    {
      name: "101 entries",
      entries: Array.from({ length: 101 }, () => ok),
      field: "check_protectable",
      message: "must have at most 100 entries",
    },
    {
      name: "missing resource_id",
      entries: [ok, { resourceId: "", resourceType: NOVA }],
      field: "check_protectable[1].resource_id",
      message: "is required",
    },
    {
      name: "non-UUID resource_id",
      entries: [{ resourceId: "server-1", resourceType: NOVA }],
      field: "check_protectable[0].resource_id",
      message: "must be a UUID",
    },
    {
      name: "missing resource_type",
      entries: [ok, ok, { resourceId: U(3), resourceType: "" }],
      field: "check_protectable[2].resource_type",
      message: "is required",
    },
  ])("$name → $field: $message", ({ entries, field, message }) => {
    expect(validateProtectEntries(entries, LIMITS)).toEqual({ ok: false, field, message: `${field}: ${message}` });
  });

  it.each([
    { name: "one entry", entries: [ok] },
    { name: "100 entries", entries: Array.from({ length: 100 }, () => ok) },
    { name: "an unknown resource_type (a per-entry CSBS.6003)", entries: [{ resourceId: U(2), resourceType: "x" }] },
    { name: "the same server twice", entries: [ok, ok] },
  ])("$name is valid", ({ entries }) => {
    expect(validateProtectEntries(entries, LIMITS)).toEqual({ ok: true });
  });
});
