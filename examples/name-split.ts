// The name split as a pipeline module: what the built-in pipeline does on raw bytes, written on
// decoded values. `name` is trimmed and split at its first run of whitespace; NULL, empty and
// whitespace-only names are rejected with the reason.
//
//   npm start -- --pipeline examples/name-split.ts
import { definePipeline, reject } from 'pg-fanout';

export default definePipeline({
  name: 'name split',
  source: {
    table: 'public.input_table',
    key: 'id',
    columns: { id: 'bigint not null', name: 'text', age: 'integer' },
  },
  target: {
    table: 'public.people',
    columns: { id: 'bigint not null', first_name: 'text not null', last_name: 'text', age: 'integer' },
  },
  transform({ id, name, age }) {
    if (name === null) return reject('name is NULL');
    if (name === '') return reject('name is empty');
    const trimmed = name.trim();
    if (trimmed === '') return reject('name is whitespace only');
    const gap = /\s+/.exec(trimmed);
    if (gap === null) return { id, first_name: trimmed, last_name: null, age };
    return { id, first_name: trimmed.slice(0, gap.index), last_name: trimmed.slice(gap.index + gap[0].length), age };
  },
});
