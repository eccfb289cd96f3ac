// The session settings the value codecs rely on for what PostgreSQL sends: UTC timestamps, ISO
// dates, shortest-exact floats and hex bytea. Whoever opens connections applies them.

/** Setting name -> value, for `SET` statements or a connection's `options` (`-c name=value`). */
export const VALUE_SESSION_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  extra_float_digits: '1',
  bytea_output: 'hex',
});

/** The settings as one SQL string of SET statements. */
export function sessionSettingsSql(): string {
  return Object.entries(VALUE_SESSION_SETTINGS)
    .map(([name, value]) => `SET ${name} = '${value}'`)
    .join('; ');
}
