// The codec of each PostgreSQL base type by its canonical name; types not known here are text.
import { dateCodec, timestampCodec } from './datetime-codecs.ts';
import { jsonCodec } from './json-codec.ts';
import { bigintCodec, booleanCodec, doubleCodec, numericCodec, realCodec, smallIntegerCodec } from './number-codecs.ts';
import type { PgTypeName } from './pg-type-name.ts';
import { byteaCodec, nameCodec, textCodec, uuidCodec } from './text-codecs.ts';
import type { ScalarCodec } from './base-codec.ts';

export type { ScalarCodec } from './base-codec.ts';

const CODECS: Readonly<Record<string, ScalarCodec>> = {
  boolean: booleanCodec,
  smallint: smallIntegerCodec(-32768, 32767),
  integer: smallIntegerCodec(-2147483648, 2147483647),
  bigint: bigintCodec,
  real: realCodec,
  'double precision': doubleCodec,
  numeric: numericCodec(null),
  text: textCodec(null, 'text'),
  'character varying': textCodec(null, 'character varying'),
  bpchar: textCodec(null, 'bpchar'),
  citext: textCodec(null, 'citext'),
  name: nameCodec,
  uuid: uuidCodec,
  bytea: byteaCodec,
  json: jsonCodec(false),
  jsonb: jsonCodec(true),
  date: dateCodec,
  'timestamp without time zone': timestampCodec(false),
  'timestamp with time zone': timestampCodec(true),
};

const otherCodec = textCodec(null, 'text');
const boxCodec = textCodec(null, 'box', ';');

/** The codec of a (normalized) type; types not listed decode and encode as their text. */
export function scalarCodec(type: PgTypeName): ScalarCodec {
  if (type.modifier !== null) {
    if (type.base === 'numeric') return numericCodec(type.modifier);
    if (type.base === 'character varying' || type.base === 'character') return textCodec(Number(type.modifier), `${type.base}(${type.modifier})`);
  }
  if (type.base === 'box') return boxCodec;
  return CODECS[type.base] ?? otherCodec;
}
