import { Row } from './context';
import { fmt } from './stats';

/** The table `dasy bench` prints at the end. */
export function formatTable(rows: Row[]): string {
  const header = ['workload', 'figure', 'median', 'min', 'max', 'floor', 'ratio', ''];
  const lines = rows.map((r) => [
    r.workload,
    r.metric + (r.value.unit && !r.metric.includes(r.value.unit) ? ` (${r.value.unit})` : ''),
    fmt(r.value.median),
    r.value.runs.length > 1 ? fmt(r.value.min) : '',
    r.value.runs.length > 1 ? fmt(r.value.max) : '',
    r.floor ? fmt(r.floor.median) : '',
    r.ratio !== undefined && Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : '',
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const fmtLine = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return ['', fmtLine(header), fmtLine(widths.map((w) => '-'.repeat(w))), ...lines.map(fmtLine)].join('\n');
}
