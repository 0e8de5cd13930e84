/**
 * A line chart as a standalone SVG file: no library, no fonts or scripts from elsewhere, so the
 * bench can write it next to its tables and the README can link it.
 */

export interface Series {
  readonly name: string;
  /** [x, y] points, x ascending. */
  readonly points: readonly (readonly [number, number])[];
}

export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** A horizontal line to compare against, e.g. a goal. */
  readonly goal?: { readonly y: number; readonly label: string };
}

const WIDTH = 760;
const HEIGHT = 300;
const LEFT = 64;
const RIGHT = 16;
const TOP = 28;
const BOTTOM = 44;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const HEADING = 24;

/** Several charts stacked into one SVG, under one heading line. */
export function svgCharts(heading: string, charts: readonly Chart[]): string {
  const height = HEADING + HEIGHT * charts.length;
  const body = charts.map((c, i) => `<g transform="translate(0 ${HEADING + i * HEIGHT})">${chart(c)}</g>`).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
<text x="8" y="17" font-size="14" font-weight="bold">${esc(heading)}</text>
${body}
</svg>
`;
}

function chart(c: Chart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.goal ? [c.goal.y] : [])];
  const xMax = niceCeil(Math.max(1, ...xs));
  const yMax = niceCeil(Math.max(1, ...ys) * 1.05);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (v: number): number => LEFT + (v / xMax) * plotW;
  const y = (v: number): number => TOP + plotH - (v / yMax) * plotH;
  const parts: string[] = [`<text x="${LEFT}" y="16" font-size="13" font-weight="bold">${esc(c.title)}</text>`];
  for (let i = 0; i <= 5; i += 1) {
    const yv = (yMax * i) / 5;
    const xv = (xMax * i) / 5;
    parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(yv).toFixed(1)}" y2="${y(yv).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${(y(yv) + 4).toFixed(1)}" text-anchor="end">${fmt(yv)}</text>`);
    parts.push(`<text x="${x(xv).toFixed(1)}" y="${TOP + plotH + 16}" text-anchor="middle">${fmt(xv)}</text>`);
  }
  parts.push(`<line x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + plotH}" stroke="#444"/>`);
  parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${TOP + plotH}" y2="${TOP + plotH}" stroke="#444"/>`);
  parts.push(`<text x="${LEFT + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  if (c.goal) {
    parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(c.goal.y).toFixed(1)}" y2="${y(c.goal.y).toFixed(1)}" stroke="#888" stroke-dasharray="5 4"/>`);
    parts.push(`<text x="${LEFT + plotW - 4}" y="${(y(c.goal.y) - 4).toFixed(1)}" text-anchor="end" fill="#666">${esc(c.goal.label)}</text>`);
  }
  c.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)} ${y(p[1]).toFixed(1)}`).join(' ');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    parts.push(`<rect x="${LEFT + 10 + i * 180}" y="${TOP + 4}" width="10" height="10" fill="${colour}"/><text x="${LEFT + 24 + i * 180}" y="${TOP + 13}">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(v < 10 ? 1 : 0);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
