// make tune's pictures, as plain Vega specs rendered to SVG by the report's renderer: every measured
// configuration as a point (objective against p99, or against memory), feasible ones filled and
// infeasible ones hollow, and each stack's Pareto frontier (tools/tune/pareto.ts) of its feasible
// configurations joined by a line: the configurations no other beats on both figures.
import type * as vega from 'vega';

export interface FrontierChartPoint {
  stack: string;
  /** The configuration in words, for the tooltip. */
  label: string;
  x: number;
  y: number;
  feasible: boolean;
  /** On its stack's frontier. */
  frontier: boolean;
}

export function frontierChartSpec(points: FrontierChartPoint[], o: { title: string; x: string; y: string; stacks: string[] }): vega.Spec {
  const line = points.filter((p) => p.frontier).sort((a, b) => a.x - b.x);
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    description: o.title,
    width: 460,
    height: 320,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: o.title, subtitle: 'line: the Pareto frontier of feasible configurations; hollow: infeasible', anchor: 'start' },
    data: [
      { name: 'points', values: points as unknown as object[] },
      { name: 'frontier', values: line as unknown as object[] },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'x' }, range: 'width', nice: true, zero: true },
      { name: 'y', type: 'linear', domain: { data: 'points', field: 'y' }, range: 'height', nice: true, zero: true },
      { name: 'color', type: 'ordinal', domain: o.stacks, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: o.x, grid: true },
      { orient: 'left', scale: 'y', title: o.y, grid: true },
    ],
    legends: [{ fill: 'color', stroke: 'color', title: 'stack', symbolType: 'circle', orient: 'right' }],
    marks: [
      {
        type: 'group',
        from: { facet: { name: 'stack_frontier', data: 'frontier', groupby: 'stack' } },
        marks: [{ type: 'line', from: { data: 'stack_frontier' }, sort: { field: 'datum.x' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { scale: 'color', field: 'stack' }, strokeWidth: { value: 2 } } } }],
      },
      {
        type: 'symbol',
        from: { data: 'points' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'x' },
            y: { scale: 'y', field: 'y' },
            size: { value: 60 },
            stroke: { scale: 'color', field: 'stack' },
            strokeWidth: { value: 1.5 },
            fill: [{ test: 'datum.feasible', scale: 'color', field: 'stack' }, { value: 'white' }],
            tooltip: { signal: "datum.label + ': ' + format(datum.y, '.3~g') + ' at ' + format(datum.x, '.4~g')" },
          },
        },
      },
    ],
  } as vega.Spec;
}
