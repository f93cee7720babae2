import { z } from "zod";
import { camelCase } from "../domain/camelize.js";
import { checkpointItemSchema, serverSchema, volumeBackupSchema, volumeSchema } from "../domain/inventory-schema.js";
import type { CheckpointItem, Server, Volume, VolumeBackup } from "../domain/types.js";

/** A boolean column: SQLite answers 0/1, PostgreSQL true/false. */
type Flag = number | boolean;

/** The row of a record: its columns are the record's snake_case fields, booleans as flags. */
type Row<T> = { [K in keyof T]: T[K] extends boolean ? Flag : T[K] };

/*
 * The rows both stores read, column for column (the schemas are the same), derived from the
 * inventory's one definition (src/domain/inventory-schema.ts).
 */
export type ItemRow = Row<Omit<z.output<typeof checkpointItemSchema>, "volume_backups">>;
export type BackupRow = Row<z.output<typeof volumeBackupSchema>> & { checkpoint_item_id: string };
export type ServerRow = Row<z.output<typeof serverSchema>>;
export type VolumeRow = Row<z.output<typeof volumeSchema>>;

function isBoolean(schema: z.ZodType): boolean {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodNullable || schema instanceof z.ZodOptional) {
    return isBoolean(schema.unwrap() as z.ZodType);
  }
  return schema instanceof z.ZodBoolean;
}

/**
 * Maps a row to its record: each column of the shape to its camelCase field, flags to booleans.
 * With a prefix, the row's columns are `<prefix><column>` (a joined row's second table).
 */
function rowMapper<T>(
  shape: Record<string, z.ZodType>,
  skip: ReadonlyArray<string> = [],
  prefix = "",
): (row: object) => T {
  const columns = Object.entries(shape)
    .filter(([column]) => !skip.includes(column))
    .map(([column, schema]) => ({ column: prefix + column, field: camelCase(column), flag: isBoolean(schema) }));
  return (row) => {
    const r = row as Record<string, unknown>;
    const record: Record<string, unknown> = {};
    for (const { column, field, flag } of columns) {
      const value = r[column];
      record[field] = flag ? value === true || value === 1 : value;
    }
    return record as T;
  };
}

const itemOf = rowMapper<Omit<CheckpointItem, "volumeBackups">>(checkpointItemSchema.shape, ["volume_backups"]);

export function toCheckpointItem(r: ItemRow, volumeBackups: VolumeBackup[]): CheckpointItem {
  const item = itemOf(r) as CheckpointItem;
  item.volumeBackups = volumeBackups;
  return item;
}

export const toVolumeBackup: (r: BackupRow) => VolumeBackup = rowMapper(volumeBackupSchema.shape);
export const toServer: (r: ServerRow) => Server = rowMapper(serverSchema.shape);
export const toVolume: (r: VolumeRow) => Volume = rowMapper(volumeSchema.shape);

/** A record's columns as a select list: `t.col`, or `t.col AS <prefix>col` with a prefix. */
function selectList(shape: Record<string, z.ZodType>, table: string, prefix = "", skip: ReadonlyArray<string> = []) {
  return Object.keys(shape)
    .filter((column) => !skip.includes(column))
    .map((column) => (prefix ? `${table}.${column} AS ${prefix}${column}` : `${table}.${column}`))
    .join(", ");
}

/*
 * Joined lookups (an item with its backups, a server with its volumes in one statement): the
 * second table's columns carry a prefix, so that `id`, `status`, `bootable` do not collide.
 */
export const BACKUP_PREFIX = "b_";
export const VOLUME_PREFIX = "v_";
/** Select lists of the joined lookups: `i` the items, `b` their backups, `s` the servers, `v` their volumes. */
export const SELECT = {
  items: selectList(checkpointItemSchema.shape, "i", "", ["volume_backups"]),
  backups: selectList(volumeBackupSchema.shape, "b", BACKUP_PREFIX),
  servers: selectList(serverSchema.shape, "s"),
  volumes: selectList(volumeSchema.shape, "v", VOLUME_PREFIX),
} as const;
export const toPrefixedVolumeBackup: (r: object) => VolumeBackup = rowMapper(
  volumeBackupSchema.shape,
  [],
  BACKUP_PREFIX,
);
export const toPrefixedVolume: (r: object) => Volume = rowMapper(volumeSchema.shape, [], VOLUME_PREFIX);

/**
 * A record's column values for a bulk import's staging rows, in one fixed order:
 * `project_id`, `id`, then the schema's other columns (those in `skip` left out), booleans
 * through `asFlag` (SQLite binds 0/1, PostgreSQL's COPY takes true/false).
 */
function columnValues(
  shape: Record<string, z.ZodType>,
  skip: ReadonlyArray<string>,
  asFlag: (b: boolean) => Flag,
): (record: object) => unknown[] {
  const columns = ["project_id", "id", ...Object.keys(shape).filter((c) => c !== "project_id" && c !== "id")]
    .filter((column) => !skip.includes(column))
    .map((column) => ({ field: camelCase(column), flag: isBoolean(shape[column] as z.ZodType) }));
  return (record) => {
    const r = record as Record<string, unknown>;
    return columns.map(({ field, flag }) => (flag ? asFlag(r[field] as boolean) : r[field]));
  };
}

/** The staged columns of items (without their backups), servers and volumes, for one store's flags. */
export function stagedColumns(asFlag: (b: boolean) => Flag) {
  return {
    item: columnValues(checkpointItemSchema.shape, ["volume_backups"], asFlag),
    server: columnValues(serverSchema.shape, [], asFlag),
    volume: columnValues(volumeSchema.shape, [], asFlag),
  } as const;
}
