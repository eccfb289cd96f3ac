// Pure: benchmark results -> a small SVG bar chart (rows/s by method and concurrency).

export interface Bar {
  label: string;
  rowsPerSecond: number;
  min: number;
  max: number;
}

export function barChartSvg(title: string, bars: readonly Bar[]): string {
  const width = 760;
  const rowHeight = 34;
  const left = 250;
  const top = 48;
  const height = top + bars.length * rowHeight + 40;
  const peak = Math.max(1, ...bars.map((b) => b.max));
  const scale = (v: number) => ((width - left - 90) * v) / peak;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight;
    return [
      `<text x="${left - 10}" y="${y + 20}" text-anchor="end" font-size="13">${esc(b.label)}</text>`,
      `<rect x="${left}" y="${y + 6}" width="${scale(b.rowsPerSecond).toFixed(1)}" height="20" fill="${b.label.startsWith('pg-fanout') ? '#2f6fb0' : '#9a9a9a'}"/>`,
      `<line x1="${(left + scale(b.min)).toFixed(1)}" x2="${(left + scale(b.max)).toFixed(1)}" y1="${y + 16}" y2="${y + 16}" stroke="#000" stroke-width="1.5"/>`,
      `<text x="${(left + scale(b.max) + 6).toFixed(1)}" y="${y + 20}" font-size="12">${Math.round(b.rowsPerSecond).toLocaleString('en-US')}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>
${rows.join('\n')}
<text x="${left}" y="${height - 12}" font-size="11" fill="#555">rows/s (median; whiskers: min–max over repeats)</text>
</svg>
`;
}
