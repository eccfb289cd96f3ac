// Row objects by column name at the speed of a fixed shape. Building the decoded row key by key
// (`o[name] = …` in a loop) walks V8's hidden-class transitions for every row, and reading the
// transform's result the same way is a keyed, megamorphic load per value: together about half a
// microsecond a row on twelve columns. Functions generated once per pipeline, with the names as
// literals, build one object literal and read named properties, which V8 compiles to fixed offsets.
// Names are embedded with JSON.stringify, so any column name is a safe string literal.

/** `(values) => ({ [names[0]]: values[0], … })`: a fresh object of one fixed shape per call. */
export function objectBuilder(names: readonly string[]): (values: readonly unknown[]) => Record<string, unknown> {
  // `__proto__: v` in an object literal would set the prototype, not a property: the loop for that one.
  if (names.includes('__proto__') || names.length > 500) {
    return (values) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) Object.defineProperty(o, names[i]!, { value: values[i], enumerable: true, writable: true, configurable: true });
      return o;
    };
  }
  const fields = names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ');
  return new Function('v', `return { ${fields} };`) as (values: readonly unknown[]) => Record<string, unknown>;
}

/** `(o, into)`: `into[i] = o[names[i]]` for every name (undefined where `o` has none). */
export function propertyReader(names: readonly string[]): (o: Record<string, unknown>, into: unknown[]) => void {
  // `o.constructor`, `o.toString`, `o.__proto__`… read Object.prototype's when `o` has no such own
  // property: a column named so gets the loop, which reads own properties only.
  if (names.some((name) => name in Object.prototype) || names.length > 500) {
    return (o, into) => {
      for (let i = 0; i < names.length; i++) into[i] = Object.hasOwn(o, names[i]!) ? o[names[i]!] : undefined;
    };
  }
  const reads = names.map((name, i) => `into[${i}] = o[${JSON.stringify(name)}];`).join(' ');
  return new Function('o', 'into', reads) as (o: Record<string, unknown>, into: unknown[]) => void;
}
