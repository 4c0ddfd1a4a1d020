// The one chart-spec builder: plain Vega specs (vega-lite needs Node 22), rendered to SVG headless
// with vega's 'none' renderer. Every chart is the same shape - one coloured line per series over the
// concurrency levels, a point per level with a whisker for its spread, an optional dashed reference
// line - so the three report charts are three calls with different data, not three specs. Over
// categories that are no scale (a mix's models) the lines are left out: dots and whiskers per category.
import * as vega from 'vega';

export interface ChartPoint {
  series: string;
  /** A level (concurrency) or a category (a mix's model). */
  x: number | string;
  y: number;
  /** Spread whisker (e.g. min and max over rounds); omitted: no whisker. */
  lo?: number;
  hi?: number;
}

interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  points: ChartPoint[];
  /** Series in colour order (pass the same list to every chart so an implementation keeps its colour). */
  series: string[];
  /** Series listed in the legend; default: those with points. */
  legend?: string[];
  /** x positions shown (the concurrency levels, or a mix's models), evenly spaced. */
  xValues: (number | string)[];
  /** Join a series' points with a line (default); false: categories with no order between them. */
  connect?: boolean;
  yScale?: 'linear' | 'log';
  /** A dashed horizontal line, e.g. speedup 1 = baseline. */
  reference?: { y: number; label: string };
  width?: number;
  height?: number;
}

/** Pixels between neighbouring series at one level, so whiskers of equal levels do not overlap. */
const DODGE_PX = 7;

export function lineChartSpec(o: LineChartOptions): vega.Spec {
  const points = [...o.points].sort((a, b) => o.series.indexOf(a.series) - o.series.indexOf(b.series) || o.xValues.indexOf(a.x) - o.xValues.indexOf(b.x));
  const dodge = `(indexof(domain('color'), datum.series) - (length(domain('color')) - 1) / 2) * ${DODGE_PX}`;
  const x = { scale: 'x', field: 'x', offset: { signal: dodge } };
  const yFields = [{ data: 'points', field: 'y' }, { data: 'whiskers', field: 'lo' }, { data: 'whiskers', field: 'hi' }, { data: 'reference_value', field: 'y' }];
  const legend = o.legend ?? o.series.filter((s) => points.some((p) => p.series === s));
  const marks: vega.Mark[] = [];
  if (o.reference) {
    marks.push(
      { type: 'rule', name: 'reference', encode: { enter: { x: { value: 0 }, x2: { signal: 'width' }, y: { scale: 'y', value: o.reference.y }, stroke: { value: '#666' }, strokeDash: { value: [4, 4] } } } },
      { type: 'text', name: 'reference-label', encode: { enter: { x: { signal: 'width' }, y: { scale: 'y', value: o.reference.y }, dy: { value: -4 }, align: { value: 'right' }, text: { value: o.reference.label }, fill: { value: '#666' }, fontSize: { value: 10 } } } },
    );
  }
  if (o.connect !== false) {
    marks.push({
      type: 'group',
      name: 'lines',
      from: { facet: { name: 'series_points', data: 'points', groupby: 'series' } },
      marks: [{ type: 'line', name: 'line', from: { data: 'series_points' }, encode: { enter: { x, y: { scale: 'y', field: 'y' }, stroke: { scale: 'color', field: 'series' }, strokeWidth: { value: 2 } } } }],
    });
  }
  marks.push(
    { type: 'rule', name: 'whisker', from: { data: 'whiskers' }, encode: { enter: { x, y: { scale: 'y', field: 'lo' }, y2: { scale: 'y', field: 'hi' }, stroke: { scale: 'color', field: 'series' }, strokeWidth: { value: 1.5 } } } },
    {
      type: 'symbol',
      name: 'point',
      from: { data: 'points' },
      encode: { enter: { x, y: { scale: 'y', field: 'y' }, fill: { scale: 'color', field: 'series' }, size: { value: 40 }, tooltip: { signal: "datum.series + ' @ ' + datum.x + ': ' + format(datum.y, '.3~g')" } } },
    },
  );
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: o.title,
    width: o.width ?? 520,
    height: o.height ?? 300,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: o.title, anchor: 'start' },
    data: [
      { name: 'points', values: points as unknown as object[] },
      { name: 'whiskers', source: 'points', transform: [{ type: 'filter', expr: 'isValid(datum.lo) && isValid(datum.hi)' }] },
      // The reference value joins the y domain, so it is on the chart even with no points.
      { name: 'reference_value', values: o.reference ? [{ y: o.reference.y }] : [] },
    ],
    scales: [
      { name: 'x', type: 'point', domain: o.xValues, range: 'width', padding: 0.5 },
      o.yScale === 'log'
        ? { name: 'y', type: 'log', domain: { fields: yFields }, range: 'height', nice: true }
        : { name: 'y', type: 'linear', domain: { fields: yFields }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: o.series, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: o.xTitle },
      { orient: 'left', scale: 'y', title: o.yTitle, grid: true, ...(o.yScale === 'log' && { format: '~g' }) },
    ],
    legends: legend.length > 0 ? [{ fill: 'color', stroke: 'color', title: 'implementation', symbolType: 'circle', orient: 'right', values: legend }] : [],
    marks,
  };
}

/** Renders a spec to a standalone SVG document (no browser, no canvas). */
export async function renderSvg(spec: vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
