// The name split, on JavaScript strings: the reference semantics every faster path must agree with.

export const NAME_IS_NULL = 'name is NULL';
export const NAME_IS_EMPTY = 'name is empty';
export const NAME_IS_WHITESPACE_ONLY = 'name is whitespace only';

export type NameRejectReason = typeof NAME_IS_NULL | typeof NAME_IS_EMPTY | typeof NAME_IS_WHITESPACE_ONLY;

export interface SplitName {
  readonly firstName: string;
  /** Everything after the first run of whitespace, verbatim; null for a one-token name. */
  readonly lastName: string | null;
}

export interface RejectedName {
  readonly reject: NameRejectReason;
}

export type NameSplitResult = SplitName | RejectedName;

// `\s` is exactly the set `String.prototype.trim` removes (ECMAScript WhiteSpace + LineTerminator).
const WHITESPACE_RUN = /\s+/;

/**
 * Trims `name`, then splits it at its first run of whitespace: the part before is the first name,
 * the rest (inner whitespace kept) the last name. A NULL, empty or whitespace-only name is rejected.
 */
export function splitName(name: string | null): NameSplitResult {
  if (name === null) return { reject: NAME_IS_NULL };
  if (name.length === 0) return { reject: NAME_IS_EMPTY };
  const trimmed = name.trim();
  if (trimmed.length === 0) return { reject: NAME_IS_WHITESPACE_ONLY };
  const gap = WHITESPACE_RUN.exec(trimmed);
  if (gap === null) return { firstName: trimmed, lastName: null };
  return { firstName: trimmed.slice(0, gap.index), lastName: trimmed.slice(gap.index + gap[0].length) };
}

export function isRejectedName(result: NameSplitResult): result is RejectedName {
  return 'reject' in result;
}
