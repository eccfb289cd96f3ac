// The codecs of json and jsonb.
import { MALFORMED } from './malformed.ts';
import { parseJson, stringifyJson } from './json-value.ts';
import { utf8Decode, type ScalarCodec } from './base-codec.ts';

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
      // jsonb is what rejects hold: a value it cannot take (U+0000 in a json string) throws, and
      // jsonForReject falls back to the field's text.
      const text = stringifyJson(value, true);
      if (typeof text !== 'string') throw new TypeError(text.reason);
      return text;
    },
    delimiter: ',',
    ascii: false,
  };
}
