// The built-in pipeline, what pg-fanout runs when no pipeline module is given: the name split from
// `SOURCE_TABLE` (key `KEY_COLUMN`, any type with a unique index; `name`, `age`) into
// `TARGET_TABLE` (key, `first_name`, `last_name`, `age`), on raw COPY bytes (split-name-transform.ts).
import type { TableConfig } from '../shared/config.ts';
import { parseColumnName } from '../shared/sql-identifiers.ts';
import { splitNameTransform } from '../transform/split-name-transform.ts';
import { columnSpec, type ColumnSpec, type PipelineSpec } from './pipeline-spec.ts';
import { CATALOG_TYPE } from './resolve-pipeline.ts';

const catalogTyped = (name: string): ColumnSpec =>
  Object.freeze({ name, declared: CATALOG_TYPE, type: CATALOG_TYPE, baseType: CATALOG_TYPE, arrayDims: 0, notNull: false });

export function nameSplitPipeline(tables: TableConfig): PipelineSpec {
  const key = parseColumnName(tables.keyColumn, 'KEY_COLUMN');
  const at = (name: string) => columnSpec(name, name === 'age' ? 'integer' : 'text', 'the name split');
  return Object.freeze({
    name: `${tables.sourceTable} -> ${tables.targetTable}`,
    nameFromTables: true,
    source: Object.freeze({ table: tables.sourceTable, key: Object.freeze([key]), columns: Object.freeze([catalogTyped(key), at('name'), at('age')]) }),
    targets: Object.freeze([
      Object.freeze({
        name: tables.targetTable,
        table: tables.targetTable,
        columns: Object.freeze([catalogTyped(key), at('first_name'), at('last_name'), at('age')]),
        sourceKey: Object.freeze([key]),
        primaryKey: Object.freeze([key]),
      }),
    ]),
    singleTarget: true,
    transform: () => {
      throw new Error('the name split runs on raw COPY bytes (rawTransform)');
    },
    rawTransform: splitNameTransform,
    fullRefresh: 'shadow',
    labels: {
      prefix: '',
      sourceTable: 'SOURCE_TABLE',
      targetTable: () => 'TARGET_TABLE',
      key: 'KEY_COLUMN',
      columns: (w: unknown) => (w === 'source' ? 'SOURCE_TABLE' : 'TARGET_TABLE'),
      builtIn: true,
    },
  });
}
