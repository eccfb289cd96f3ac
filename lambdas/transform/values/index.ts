// Exact JS values for PostgreSQL COPY text fields, both ways: what a row transform imports.
export { decoderFor, encoderFor, jsonForReject, type FieldDecoder, type FieldEncoder } from './codecs.ts';
export { JSON_NULL } from './json-value.ts';
export { Numeric } from './numeric.ts';
export { PgDate } from './pg-date.ts';
export { PgTimestamp } from './pg-timestamp.ts';
export { normalizePgType, type PgTypeName } from './pg-type-name.ts';
export { sessionSettingsSql, VALUE_SESSION_SETTINGS } from './session-settings.ts';
