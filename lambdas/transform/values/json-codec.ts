// The codecs of json and jsonb.
import { MALFORMED } from './malformed.ts';
import { parseJson, stringifyJson } from './json-value.ts';
import { jsonString, utf8Decode, type ScalarCodec } from './base-codec.ts';

function jsonOf(text: string): unknown {
  try {
    return parseJson(text);
  } catch {
    return MALFORMED;
  }
}

/** json or jsonb: parsed with exact numbers, written exactly (jsonb refuses what it cannot store). */
export function jsonCodec(jsonb: boolean): ScalarCodec {
  return {
    parse: jsonOf,
    decode: utf8Decode(jsonOf),
    format: (value) => stringifyJson(value, jsonb),
    arrayValues: true,
    json(value) {
      const text = stringifyJson(value, true);
      return typeof text === 'string' ? text : jsonString(value);
    },
    delimiter: ',',
    ascii: false,
  };
}
