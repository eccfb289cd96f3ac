// pg-fanout's API for pipeline modules: `import { definePipeline, reject } from 'pg-fanout'`.
// A pipeline module exports one pipeline (default export); see the README, "Write your pipeline".
export {
  definePipeline,
  reject,
  type Columns,
  type JsonValue,
  type MultiTargetPipelineSpec,
  type PipelineDefinition,
  type PipelineOptions,
  type PgTypeInputs,
  type PgTypeValues,
  type Reject,
  type RowsByTarget,
  type RowsFor,
  type SingleTargetPipelineSpec,
  type SourceRow,
  type SourceSpec,
  type TargetRow,
  type TargetSpec,
} from './define.ts';
export { JSON_NULL, Numeric, PgDate, PgTimestamp } from '../transform/values/index.ts';
