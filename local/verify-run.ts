// `pg-fanout verify RUN_ID`: the deep check of a run, for any pipeline and across two databases.
// For each chunk of the run, its key range is read from the source again and put through the
// pipeline once more — into temporary copies of the targets (same columns, constraints and
// indexes) inside a transaction that is rolled back — and what that gives is compared with what
// the targets and etl.rejects hold in the range: row for row (as PostgreSQL prints them, so numeric
// scales and time zones compare as stored), each target and the rejects. Reads everything once;
// writes nothing.
import { guardClient, sqlLiteral, withClient, type PoolClient } from '../lambdas/shared/db.ts';
import { keyRangeSql, rangeText } from '../lambdas/shared/keys.ts';
import { listChunks, type RunRow } from '../lambdas/shared/ledger.ts';
import type { OpenedPipeline } from '../lambdas/pipeline/open-pipeline.ts';
import { rejectKeyColumns, REJECT_COLUMNS, type LoadTable } from '../lambdas/worker/chunk-sql.ts';
import { runLoad } from '../lambdas/worker/copy-chunk.ts';
import { ExtractSession } from '../lambdas/worker/extract-session.ts';
import { loadIsolating } from '../lambdas/worker/isolate-refused-rows.ts';
import { isDataError, loadStreamed, type LoadContext } from '../lambdas/worker/load-chunk.ts';
import { extractSql } from '../lambdas/worker/chunk-sql.ts';

export interface SideCheck {
  readonly name: string;
  /** Rows the pipeline gives for the range now. */
  readonly expected: number;
  /** Rows the table holds in the range. */
  readonly actual: number;
  /** Expected rows the table lacks, and rows it has that are not expected. */
  readonly missing: number;
  readonly unexpected: number;
}

export interface ChunkVerdict {
  readonly chunkNo: number;
  readonly range: string;
  readonly sides: readonly SideCheck[];
  readonly ok: boolean;
}

export interface RunVerification {
  readonly ok: boolean;
  readonly chunks: readonly ChunkVerdict[];
  /** Source rows read again. */
  readonly rowsRead: number;
}

export async function verifyRun(opened: OpenedPipeline, run: RunRow, onChunk?: (v: ChunkVerdict) => void): Promise<RunVerification> {
  const p = opened.pipeline;
  const chunks = await withClient(opened.target, (c) => listChunks(c, run.runId));
  // Compare with the tables as they stand: a completed shadow refresh's are the swapped-in ones.
  const live = runLoad(p, { runId: run.runId, status: run.status, mode: run.phase === 'copy' && run.status === 'running' ? run.mode : 'incremental', refresh: run.refresh, fingerprint: run.fingerprint, baselineSnapshot: null, targets: run.targets });
  const verdicts: ChunkVerdict[] = [];
  let rowsRead = 0;
  for (const chunk of chunks) {
    const loader = await opened.target.connect();
    const loaderErrors = guardClient(loader);
    let session: ExtractSession | undefined;
    try {
      await loader.query('BEGIN');
      const temps: LoadTable[] = [];
      for (const [i, t] of live.tables.entries()) {
        const name = `pgf_verify_${i}`;
        await loader.query(`CREATE TEMP TABLE ${name} (LIKE ${t.sql} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES) ON COMMIT DROP`);
        temps.push({ ...t, sql: name, relname: name });
      }
      await loader.query(`CREATE TEMP TABLE pgf_verify_rejects (LIKE etl.rejects INCLUDING DEFAULTS) ON COMMIT DROP`);
      const lc: LoadContext = { pipeline: p, engine: opened.engine, sameDatabase: opened.sameDatabase, rejectsSql: `COPY pgf_verify_rejects ${REJECT_COLUMNS} FROM STDIN` };
      const load = { run: { ...live.run, mode: 'full' as const, refresh: 'in-place' as const }, tables: temps };
      session = await ExtractSession.open(opened.source);
      await loader.query('SAVEPOINT pgf_verify');
      let read: number;
      try {
        read = (await loadStreamed(lc, loader, session, load, [chunk], { started: performance.now() }))[0]!.counts.rowsRead;
      } catch (error) {
        if (!isDataError(error)) throw error;
        await loader.query('ROLLBACK TO SAVEPOINT pgf_verify');
        await session.close();
        session = await ExtractSession.open(opened.source);
        read = (await loadIsolating(lc, loader, session, load, chunk, { extractSql: extractSql(p, chunk), rowsDeleted: 0, started: performance.now() })).counts.rowsRead;
      }
      rowsRead += read;
      const sides: SideCheck[] = [];
      for (const [i, t] of live.tables.entries()) {
        const cols = t.columnsSql.join(', ');
        const inRange = `${t.sql} WHERE ${keyRangeSql(p.key, chunk, sqlLiteral, t.sourceKeySql)}`;
        sides.push(await compare(loader, t.name, `SELECT ROW(${cols})::text AS r FROM ${temps[i]!.sql}`, `SELECT ROW(${cols})::text AS r FROM ${inRange}`));
      }
      const rejectRow = `ROW(source_key, coalesce(target, ''), reason)::text AS r`;
      sides.push(await compare(
        loader,
        'etl.rejects',
        `SELECT ${rejectRow} FROM pgf_verify_rejects`,
        `SELECT ${rejectRow} FROM etl.rejects WHERE pipeline = ${sqlLiteral(p.name)} AND ${keyRangeSql(p.key, chunk, sqlLiteral, rejectKeyColumns(p.key))}`,
      ));
      const verdict = { chunkNo: chunk.chunkNo, range: rangeText(chunk.lo, chunk.hi), sides, ok: sides.every((s) => s.missing === 0 && s.unexpected === 0) };
      verdicts.push(verdict);
      onChunk?.(verdict);
    } finally {
      await session?.close();
      await loader.query('ROLLBACK').catch(() => undefined);
      loader.release(loaderErrors[0]);
    }
  }
  return { ok: verdicts.every((v) => v.ok), chunks: verdicts, rowsRead };
}

async function compare(client: PoolClient, name: string, expectedSql: string, actualSql: string): Promise<SideCheck> {
  const { rows } = await client.query<{ expected: string; actual: string; missing: string; unexpected: string }>(
    `SELECT (SELECT count(*) FROM (${expectedSql}) e)::text AS expected, (SELECT count(*) FROM (${actualSql}) a)::text AS actual,
            (SELECT count(*) FROM ((SELECT r FROM (${expectedSql}) e) EXCEPT ALL (SELECT r FROM (${actualSql}) a)) m)::text AS missing,
            (SELECT count(*) FROM ((SELECT r FROM (${actualSql}) a) EXCEPT ALL (SELECT r FROM (${expectedSql}) e)) u)::text AS unexpected`,
  );
  const r = rows[0]!;
  return { name, expected: Number(r.expected), actual: Number(r.actual), missing: Number(r.missing), unexpected: Number(r.unexpected) };
}

export function describeVerdict(v: ChunkVerdict): string {
  const bad = v.sides.filter((s) => s.missing > 0 || s.unexpected > 0);
  return `chunk ${v.chunkNo} ${v.range}: ${bad.map((s) => `${s.name} holds ${s.actual} rows, the pipeline gives ${s.expected} now (${s.missing} missing, ${s.unexpected} not expected)`).join('; ')}`;
}
