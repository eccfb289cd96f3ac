// The user-facing pipeline API: `definePipeline(…)` and the types that make a pipeline module's
// rows follow its declared columns. Pure: it checks the shape of a definition and freezes it; the
// catalogs are consulted later (resolve-pipeline.ts), when a database is at hand.
import type { JSON_NULL, Numeric, PgDate, PgTimestamp } from '../transform/values/index.ts';
import { normalizeDefinition, type PipelineSpec } from './pipeline-spec.ts';

/** A parsed `json`/`jsonb` value: integers beyond 2^53 as bigint, decimals a double cannot hold as Numeric, a top-level JSON null as JSON_NULL. */
export type JsonValue = null | boolean | number | bigint | string | Numeric | typeof JSON_NULL | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What a declared PostgreSQL type becomes in a source row (see the README's value table). */
export interface PgTypeValues {
  boolean: boolean;
  bool: boolean;
  smallint: number;
  int2: number;
  integer: number;
  int: number;
  int4: number;
  bigint: bigint;
  int8: bigint;
  real: number;
  float4: number;
  'double precision': number;
  float8: number;
  numeric: Numeric;
  decimal: Numeric;
  text: string;
  varchar: string;
  'character varying': string;
  char: string;
  character: string;
  bpchar: string;
  name: string;
  citext: string;
  uuid: string;
  bytea: Buffer;
  json: JsonValue;
  jsonb: JsonValue;
  date: PgDate;
  timestamp: PgTimestamp;
  timestamptz: PgTimestamp;
  'timestamp with time zone': PgTimestamp;
  'timestamp without time zone': PgTimestamp;
}

/** What a transform may return for a target column of a declared type (a little wider than what it reads). */
export interface PgTypeInputs extends Omit<PgTypeValues, 'smallint' | 'int2' | 'integer' | 'int' | 'int4' | 'bigint' | 'int8' | 'numeric' | 'decimal' | 'bytea' | 'json' | 'jsonb' | 'date' | 'timestamp' | 'timestamptz' | 'timestamp with time zone' | 'timestamp without time zone'> {
  smallint: number | bigint;
  int2: number | bigint;
  integer: number | bigint;
  int: number | bigint;
  int4: number | bigint;
  bigint: bigint | number;
  int8: bigint | number;
  numeric: Numeric | bigint | number | string;
  decimal: Numeric | bigint | number | string;
  bytea: Uint8Array;
  json: unknown;
  jsonb: unknown;
  date: PgDate | Date | string;
  timestamp: PgTimestamp | Date | string;
  timestamptz: PgTimestamp | Date | string;
  'timestamp with time zone': PgTimestamp | Date | string;
  'timestamp without time zone': PgTimestamp | Date | string;
}

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;
/** `varchar(10)` -> `varchar`, `timestamp(3) with time zone` -> `timestamp with time zone`. */
type WithoutModifier<S extends string> = S extends `${infer A}(${string})${infer B}` ? Trim<`${Trim<A>}${B extends '' ? '' : ` ${Trim<B>}`}`> : S;
type BaseValue<S extends string, M> = Lowercase<WithoutModifier<Trim<S>>> extends infer K ? (K extends keyof M ? M[K] : string) : never;
/** `text[]` -> `(string | null)[]`, nested for `[][]`. Unknown types (enums, inet, …) are their text. */
type ValueOf<S extends string, M> = Trim<S> extends `${infer E}[]` ? (ValueOf<E, M> | null)[] : BaseValue<S, M>;

/** A declared column type: a PostgreSQL type name, optionally followed by `not null`. */
export type ColumnType = string;
export type Columns = Readonly<Record<string, ColumnType>>;

type NotNull<S extends string> = Lowercase<S> extends `${string} not null` ? true : false;
type StripNotNull<S extends string> = S extends `${infer T} not null` ? T : S extends `${infer T} NOT NULL` ? T : S;

/** The row a transform receives: every declared source column, NULL as `null` unless declared `not null`. */
export type SourceRow<C extends Columns> = {
  readonly [K in keyof C]: NotNull<C[K]> extends true ? ValueOf<StripNotNull<C[K]>, PgTypeValues> : ValueOf<C[K], PgTypeValues> | null;
};

/** A row for one target: every declared column (a missing one is a reject naming it). */
export type TargetRow<C extends Columns> = {
  [K in keyof C]: NotNull<C[K]> extends true ? InputOf<StripNotNull<C[K]>> : InputOf<C[K]> | null;
};
type InputOf<S extends string> = Trim<S> extends `${infer E}[]` ? readonly (InputOf<E> | null)[] : BaseValue<S, PgTypeInputs>;

declare const REJECT: unique symbol;
/** A row the transform refuses, with the reason that goes to `etl.rejects`. */
export interface Reject {
  readonly [REJECT]: true;
  readonly reason: string;
}

/** Refuse this source row: it goes to `etl.rejects` with `reason`, and to no target. */
export function reject(reason: string): Reject {
  if (typeof reason !== 'string' || reason.trim() === '') throw new TypeError('reject(reason): give the reason as a non-empty string; it is stored in etl.rejects.');
  return Object.freeze({ [REJECT_BRAND]: true, reason }) as unknown as Reject;
}

const REJECT_BRAND = Symbol.for('pg-fanout.reject');

export function isReject(value: unknown): value is Reject {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[REJECT_BRAND] === true;
}

export interface SourceSpec<C extends Columns> {
  /** The table (or `schema.table`; quote parts with "…" as in SQL) the pipeline reads. */
  readonly table: string;
  /**
   * Its unique key: one column or several (a composite key). Chunks are ranges of this key in its
   * btree order, so it needs a unique index and NOT NULL. Each key column must be in `columns`.
   */
  readonly key: (keyof C & string) | readonly (keyof C & string)[];
  /** Every column the transform reads, with its PostgreSQL type (checked against the catalog). */
  readonly columns: C;
}

export interface TargetSpec<C extends Columns> {
  /** The table written; created (with `primaryKey`) when it does not exist. */
  readonly table: string;
  /** Every column the transform writes, with its PostgreSQL type (checked against the catalog). */
  readonly columns: C;
  /**
   * The target columns that hold the source row's key, in the source key's order: how a chunk
   * finds (and replaces) the rows it wrote here. @default the source key's column names
   */
  readonly sourceKey?: readonly (keyof C & string)[];
  /** The primary key of a target pg-fanout creates. @default `sourceKey` */
  readonly primaryKey?: readonly (keyof C & string)[];
}

/** One row, several rows, or none (`null` or `[]`: the source row is filtered, counted, no error). */
export type RowsFor<T extends Columns> = TargetRow<T> | readonly TargetRow<T>[] | null;

export interface PipelineOptions {
  /**
   * How `--mode full` replaces the targets: `shadow` builds new tables beside them, indexes after
   * the data, and swaps them in atomically; `in-place` deletes and rewrites each chunk's rows in the
   * live tables (for targets other objects depend on). @default 'shadow'
   */
  readonly fullRefresh?: 'shadow' | 'in-place';
}

interface CommonSpec<S extends Columns> extends PipelineOptions {
  /** Names the pipeline in the ledger, metrics and logs: letters, digits, `_ - . :` and spaces. */
  readonly name: string;
  readonly source: SourceSpec<S>;
}

export interface SingleTargetPipelineSpec<S extends Columns, T extends Columns> extends CommonSpec<S> {
  readonly target: TargetSpec<T>;
  /** Called for every source row: return the target row(s), `null` to filter it, or `reject(reason)`. */
  transform(row: SourceRow<S>): NoInfer<RowsFor<T> | Reject>;
}

export type TargetSpecs = Readonly<Record<string, TargetSpec<Columns>>>;
export type RowsByTarget<TS extends TargetSpecs> = { readonly [N in keyof TS]?: RowsFor<TS[N]['columns']> };

export interface MultiTargetPipelineSpec<S extends Columns, TS extends TargetSpecs> extends CommonSpec<S> {
  readonly targets: TS;
  /** Called for every source row: return rows by target name (absent = none), `null` to filter it, or `reject(reason)`. */
  transform(row: SourceRow<S>): NoInfer<RowsByTarget<TS> | null | Reject>;
}

/** A checked, frozen pipeline definition: what a pipeline module exports. */
export interface PipelineDefinition {
  readonly kind: 'pg-fanout pipeline';
  readonly spec: PipelineSpec;
}

/**
 * Declares a pipeline. The source row's type follows `source.columns`, each target row's type its
 * `columns`, so a misspelt column is a type error in your editor. Throws a `ConfigError` naming the
 * field when the definition is malformed.
 */
export function definePipeline<const S extends Columns, const T extends Columns = never, const TS extends TargetSpecs = never>(spec: PipelineInput<S, T, TS>): PipelineDefinition {
  return Object.freeze({ kind: 'pg-fanout pipeline' as const, spec: normalizeDefinition(spec as unknown as Record<string, unknown>) });
}

/** What `definePipeline` takes: one `target` (the transform returns rows) or `targets` by name (it returns rows by name). */
export interface PipelineInput<S extends Columns, T extends Columns, TS extends TargetSpecs> extends CommonSpec<S> {
  readonly target?: TargetSpec<T>;
  readonly targets?: TS;
  /**
   * Called for every source row. With `target`: return the target row(s), `null` to filter the
   * row out, or `reject(reason)`. With `targets`: rows by target name (absent = none), `null` or
   * `reject(reason)`.
   */
  transform(row: SourceRow<S>): NoInfer<[TS] extends [never] ? RowsFor<T> | Reject : RowsByTarget<TS> | null | Reject>;
}

export function isPipelineDefinition(value: unknown): value is PipelineDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'pg-fanout pipeline' && typeof (value as { spec?: unknown }).spec === 'object';
}
