// The one error hierarchy of pg-fanout. Every message names the thing, the value and the fix.

export class PgFanoutError extends Error {
  override name = 'PgFanoutError';
}

/** A setting (env var, CLI flag, CDK context) is missing, malformed or breaks a rule. */
export class ConfigError extends PgFanoutError {
  override name = 'ConfigError';
}

/** A table or column name does not parse, does not exist or has the wrong shape. */
export class SchemaError extends PgFanoutError {
  override name = 'SchemaError';
}

/** An SQS message body is not a chunk message this version understands. */
export class InvalidMessageError extends PgFanoutError {
  override name = 'InvalidMessageError';
}

/** COPY text that cannot be parsed: a bad row shape, a lone backslash, input cut short. */
export class CopyFormatError extends PgFanoutError {
  override name = 'CopyFormatError';
}

/** One chunk failed; the cause is kept and the chunk stays retryable. */
export class ChunkFailedError extends PgFanoutError {
  override name = 'ChunkFailedError';
  readonly runId: string;
  readonly chunkNo: number;
  constructor(runId: string, chunkNo: number, range: string, cause: unknown, what = 'chunk') {
    super(`${what} ${chunkNo} ${range}${range ? ' ' : ''}of run ${runId} failed and was rolled back: ${describe(cause)}`, { cause });
    this.runId = runId;
    this.chunkNo = chunkNo;
  }
}

/**
 * What a chunk read and what it wrote do not add up (PostgreSQL's own row counts at both ends
 * against the worker's): the chunk is rolled back, never committed.
 */
export class VerificationError extends PgFanoutError {
  override name = 'VerificationError';
}

/** A run was started by another definition of the pipeline than this process has. */
export class DefinitionChangedError extends PgFanoutError {
  override name = 'DefinitionChangedError';
}

/** A run cannot be found, resumed or verified in the state asked for. */
export class RunStateError extends PgFanoutError {
  override name = 'RunStateError';
}

const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03']);
const CANNOT_CONNECT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', '3D000']);
const LOGIN_REFUSED = new Set(['28P01', '28000']);

/** One line for logs and the ledger; a dropped connection says so, whatever layer noticed it. */
export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: string }).code;
  if ((code !== undefined && CONNECTION_LOST.has(code)) || /Connection terminated/i.test(error.message)) {
    return `the database connection was lost (${error.message})`;
  }
  if (code !== undefined && CANNOT_CONNECT.has(code)) {
    return `cannot connect to the database (${error.message}): check DATABASE_URL (or the secret's host) and that the server is running`;
  }
  if (code !== undefined && LOGIN_REFUSED.has(code)) {
    return `the database refused the login (${error.message}): check the user and password in DATABASE_URL (or the secret)`;
  }
  return error.message;
}

/** Errors whose message already says what to do: not a bug, so no "unexpected error" label. */
export function isOperationalError(error: unknown): boolean {
  if (error instanceof PgFanoutError) return true;
  const code = (error as { code?: string } | undefined)?.code;
  return code !== undefined && (CONNECTION_LOST.has(code) || CANNOT_CONNECT.has(code) || LOGIN_REFUSED.has(code));
}
