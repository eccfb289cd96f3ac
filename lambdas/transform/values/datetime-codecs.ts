// The codecs of date, timestamp and timestamptz.
import { MALFORMED } from './malformed.ts';
import { parsePgDate, parsePgDateBytes, PgDate, writeDateField } from './pg-date.ts';
import { formatTimestamp, parsePgTimestamp, parsePgTimestampBytes, PG_TIMESTAMP_STYLE, PG_TIMESTAMPTZ_STYLE, PgTimestamp, writeTimestampField, type TimestampStyle } from './pg-timestamp.ts';
import { Refusal, describeValue, refuse } from './refusal.ts';
import { jsonString, writeFormatted, type ScalarCodec } from './base-codec.ts';

// ---- date

function dateOf(text: string): PgDate | typeof MALFORMED {
  return parsePgDate(text) ?? MALFORMED;
}

export const dateCodec: ScalarCodec = {
  parse: dateOf,
  decode: (buf, start, end) => parsePgDateBytes(buf, start, end) ?? MALFORMED,
  format(value) {
    if (value instanceof PgDate) return value.toString();
    if (value instanceof Date) {
      try {
        return PgDate.fromDate(value).toString();
      } catch (error) {
        return new Refusal(`${describeValue(value)}: ${(error as Error).message}`);
      }
    }
    const date = typeof value === 'string' ? parsePgDate(value) : null;
    return date?.toString() ?? refuse("a PgDate, a Date or a 'YYYY-MM-DD' string", value);
  },
  write(value, out) {
    if (!(value instanceof PgDate)) return writeFormatted(dateCodec.format(value), out);
    writeDateField(value, out);
    return null;
  },
  json: jsonString,
  delimiter: ',',
  ascii: true,
};

// ---- timestamp, timestamptz

function timestampOf(text: string): PgTimestamp | typeof MALFORMED {
  const timestamp = parsePgTimestamp(text);
  return timestamp instanceof PgTimestamp ? timestamp : MALFORMED;
}

/** A PgTimestamp, a Date or timestamp text; a Refusal for anything else or outside PostgreSQL's range. */
function timestampFrom(value: unknown): PgTimestamp | Refusal {
  if (value instanceof PgTimestamp) return value;
  if (value instanceof Date) {
    try {
      return PgTimestamp.fromDate(value);
    } catch (error) {
      return new Refusal(`${describeValue(value)}: ${(error as Error).message}`);
    }
  }
  const timestamp = typeof value === 'string' ? parsePgTimestamp(value) : null;
  if (timestamp === null) return refuse('a PgTimestamp, a Date or an ISO 8601 / PostgreSQL timestamp string', value);
  if (!(timestamp instanceof PgTimestamp)) return new Refusal(`${describeValue(value)} is outside PostgreSQL's timestamp range (4714-11-24 BC to 294276-12-31)`);
  return timestamp;
}

export function timestampCodec(withTimeZone: boolean): ScalarCodec {
  const style = withTimeZone ? PG_TIMESTAMPTZ_STYLE : PG_TIMESTAMP_STYLE;
  const jsonStyle: TimestampStyle = { t: true, zone: withTimeZone ? '+00:00' : '', iso: false };
  return {
    parse: timestampOf,
    decode(buf, start, end) {
      const timestamp = parsePgTimestampBytes(buf, start, end);
      return timestamp instanceof PgTimestamp ? timestamp : MALFORMED;
    },
    format(value) {
      const timestamp = timestampFrom(value);
      return timestamp instanceof PgTimestamp ? formatTimestamp(timestamp, style) : timestamp;
    },
    write(value, out) {
      const timestamp = timestampFrom(value);
      if (!(timestamp instanceof PgTimestamp)) return timestamp;
      writeTimestampField(timestamp, withTimeZone, out);
      return null;
    },
    json: (value) => jsonString(formatTimestamp(value as PgTimestamp, jsonStyle)),
    delimiter: ',',
    ascii: true,
  };
}
