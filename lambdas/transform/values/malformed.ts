// The sentinel a text parser returns for text that is not of its type: the hot path tests for it
// instead of paying for a thrown error, and the caller says what was wrong.

export const MALFORMED: unique symbol = Symbol('malformed');
export type Malformed = typeof MALFORMED;
