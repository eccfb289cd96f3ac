// Progress of a run for people: a live bar on a terminal, plain periodic lines otherwise. Pure
// formatting; the caller decides when to draw.

export interface ProgressSnapshot {
  chunksDone: number;
  chunksFailed: number;
  chunksTotal: number;
  rowsDone: bigint;
  rowsTotal: bigint;
  elapsedMs: number;
}

export function rowsPerSecond(rows: bigint, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : Number(rows) / (elapsedMs / 1000);
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatCount(n: bigint | number): string {
  return n.toLocaleString('en-US');
}

export function progressLine(p: ProgressSnapshot, width = 30): string {
  // rowsTotal is the plan's count, an estimate for a sampled plan: every chunk done is 100%.
  const allDone = p.chunksTotal > 0 && p.chunksDone >= p.chunksTotal;
  const fraction = allDone ? 1 : p.rowsTotal > 0n ? Math.min(1, Number(p.rowsDone) / Number(p.rowsTotal)) : p.chunksTotal > 0 ? p.chunksDone / p.chunksTotal : 1;
  const filled = Math.round(fraction * width);
  const rate = rowsPerSecond(p.rowsDone, p.elapsedMs);
  // No rate yet means no estimate (shown as --), not "0s".
  const remaining = allDone || p.rowsTotal <= p.rowsDone ? 0 : rate > 0 ? (Number(p.rowsTotal - p.rowsDone) / rate) * 1000 : Number.NaN;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const failed = p.chunksFailed > 0 ? `, ${p.chunksFailed} failed` : '';
  return `${bar} ${(fraction * 100).toFixed(1)}%  chunks ${p.chunksDone}/${p.chunksTotal}${failed}  rows ${formatCount(p.rowsDone)}/${formatCount(p.rowsTotal)}  ${formatCount(Math.round(rate))} rows/s  ETA ${formatDuration(remaining)}`;
}
