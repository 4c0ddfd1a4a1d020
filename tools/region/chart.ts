// The two pictures of the traffic-mix tools, as plain Vega specs rendered to SVG by the report's
// renderer: the capacity region (each row's frontier in the plane of two models' rates, one point per
// direction, joined around the origin) and the interference heat map (victim x aggressor, the victim's
// p99 beside the aggressor's highest rate over its p99 alone).
import type * as vega from 'vega';
import type { ModelName } from '../../lib/model-contract.ts';

export interface FrontierPoint {
  row: string;
  direction: string;
  x: number;
  y: number;
  /** Angle from the x axis, for the order of the outline. */
  order: number;
}

/** The region's plane: `x` and `y` are two models' rates (req/s) at each direction's frontier. */
export function regionChartSpec(points: FrontierPoint[], axes: [ModelName, ModelName], rows: string[], title: string): vega.Spec {
  // Each row's outline starts and ends at the origin, so a region reads as an area.
  const outline = rows.flatMap((row) => {
    const own = points.filter((p) => p.row === row).sort((a, b) => a.order - b.order);
    return own.length === 0 ? [] : [{ row, x: 0, y: 0, i: -1 }, ...own.map((p, i) => ({ row, x: p.x, y: p.y, i })), { row, x: 0, y: 0, i: own.length }];
  });
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: title,
    width: 420,
    height: 320,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: title, anchor: 'start' },
    data: [
      { name: 'points', values: points as unknown as object[] },
      { name: 'outline', values: outline as unknown as object[] },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { fields: [{ data: 'outline', field: 'x' }] }, range: 'width', nice: true, zero: true },
      { name: 'y', type: 'linear', domain: { fields: [{ data: 'outline', field: 'y' }] }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: rows, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: `${axes[0]} req/s`, grid: true },
      { orient: 'left', scale: 'y', title: `${axes[1]} req/s`, grid: true },
    ],
    legends: [{ fill: 'color', stroke: 'color', title: 'row', symbolType: 'circle', orient: 'right' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'row_outline', data: 'outline', groupby: 'row' } },
        marks: [{ type: 'line', from: { data: 'row_outline' }, sort: { field: 'datum.i' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { scale: 'color', field: 'row' }, strokeWidth: { value: 2 }, strokeOpacity: { value: 0.8 } } } }],
      },
      { type: 'symbol', from: { data: 'points' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, fill: { scale: 'color', field: 'row' }, size: { value: 50 }, tooltip: { signal: "datum.row + ' ' + datum.direction + ': ' + format(datum.x, '.3~g') + ', ' + format(datum.y, '.3~g')" } } } },
    ],
  } as vega.Spec;
}

export interface HeatCell {
  victim: string;
  aggressor: string;
  /** The victim's p99 with the aggressor at its highest rate over the victim's p99 alone. */
  ratio: number | null;
}

/** victim x aggressor, one panel per row (`row` prefixes the victim's label). */
export function heatmapSpec(cells: (HeatCell & { row: string })[], title: string): vega.Spec {
  const data = cells.map((c) => ({ ...c, label: `${c.row}: ${c.victim}`, text: c.ratio === null ? 'n/a' : `${c.ratio.toFixed(2)}x` }));
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: title,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: title, anchor: 'start' },
    width: new Set(data.map((c) => c.aggressor)).size * 90,
    height: new Set(data.map((c) => c.label)).size * 36,
    data: [{ name: 'cells', values: data as unknown as object[] }],
    scales: [
      { name: 'x', type: 'band', domain: { data: 'cells', field: 'aggressor', sort: true }, range: 'width', padding: 0.05 },
      { name: 'y', type: 'band', domain: { data: 'cells', field: 'label' }, range: 'height', padding: 0.05 },
      { name: 'color', type: 'linear', domain: [1, 4], range: { scheme: 'orangered' }, clamp: true, zero: false },
    ],
    axes: [
      { orient: 'top', scale: 'x', title: 'aggressor (its rate grown to the last INTERFERENCE_RATES)' },
      { orient: 'left', scale: 'y', title: 'victim at a light rate' },
    ],
    legends: [{ fill: 'color', title: 'p99 / alone', orient: 'right' }],
    marks: [
      { type: 'rect', from: { data: 'cells' }, encode: { enter: { x: { scale: 'x', field: 'aggressor' }, width: { scale: 'x', band: 1 }, y: { scale: 'y', field: 'label' }, height: { scale: 'y', band: 1 }, fill: [{ test: 'datum.ratio === null', value: '#eee' }, { scale: 'color', field: 'ratio' }] } } },
      { type: 'text', from: { data: 'cells' }, encode: { enter: { x: { scale: 'x', field: 'aggressor', band: 0.5 }, y: { scale: 'y', field: 'label', band: 0.5 }, align: { value: 'center' }, baseline: { value: 'middle' }, text: { field: 'text' }, fontSize: { value: 12 } } } },
    ],
  } as vega.Spec;
}
