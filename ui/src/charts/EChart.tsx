// EChart renders an ECharts option. Only the chart types and components
// Crest draws are registered, which keeps the bundle small.
import { useEffect, useRef } from 'react';
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import {
  GridComponent, LegendComponent, TooltipComponent, VisualMapComponent, MarkLineComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import type { ChartOption } from './options';

echarts.use([
  BarChart, HeatmapChart, LineChart, GridComponent, LegendComponent, TooltipComponent, VisualMapComponent,
  MarkLineComponent, CanvasRenderer,
]);

/** ChartClick is the data item a click landed on (value: the item's, when the click hit it). */
export interface ChartClick { seriesIndex: number; dataIndex: number; value?: unknown }

export function EChart({ option, height = 360, label, onClick }: {
  option: ChartOption; height?: number; label: string; onClick?: (c: ChartClick) => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const click = useRef(onClick);
  useEffect(() => { click.current = onClick; }, [onClick]);
  useEffect(() => {
    if (!el.current) return;
    const c = echarts.init(el.current);
    chart.current = c;
    // A click on an item (a bar segment, a grid cell) picks it; a click
    // anywhere else on the plot picks the nearest data point, so a point
    // need not be hit exactly. ECharts reports the item click first.
    let itemHit = false;
    c.on('click', (p) => {
      if (!click.current || typeof p.seriesIndex !== 'number' || typeof p.dataIndex !== 'number') return;
      itemHit = true;
      click.current({ seriesIndex: p.seriesIndex, dataIndex: p.dataIndex, value: p.value });
    });
    c.getZr().on('click', (ev) => {
      if (itemHit) {
        itemHit = false;
        return;
      }
      if (!click.current) return;
      const hit = nearestPoint(c, ev.offsetX, ev.offsetY);
      if (hit) click.current(hit);
    });
    // A ResizeObserver reports every element once when it starts
    // observing: resizing then would draw each chart twice. Only a real
    // change of size redraws.
    let w = el.current.clientWidth, h = el.current.clientHeight;
    const ro = new ResizeObserver(([e]) => {
      const { width, height } = e.contentRect;
      if (Math.round(width) === Math.round(w) && Math.round(height) === Math.round(h)) return;
      w = width;
      h = height;
      c.resize();
    });
    ro.observe(el.current);
    return () => {
      ro.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option as echarts.EChartsCoreOption, true);
  }, [option]);
  return <div ref={el} className="echart" style={{ height }} role="img" aria-label={label} data-testid="echart" />;
}

/**
 * nearestPoint returns the data item of chart c nearest the pixel (x, y)
 * on its grid: on a category x axis the nearest x, then the series whose
 * value there is nearest in y; on a category y axis (horizontal bars) the
 * nearest row of the first series.
 */
function nearestPoint(c: echarts.ECharts, x: number, y: number): ChartClick | null {
  if (!c.containPixel('grid', [x, y])) return null;
  const opt = c.getOption() as {
    xAxis?: { type?: string; data?: unknown[] }[]; yAxis?: { type?: string; data?: unknown[] }[]; series?: { data?: unknown[]; stack?: string; type?: string }[];
  };
  const series = opt.series ?? [];
  // A grid of cells (heatmap) has no nearest point: only its cells are picked.
  if (series.length === 0 || series[0].type === 'heatmap') return null;
  const horizontal = opt.yAxis?.[0]?.type === 'category';
  const at = c.convertFromPixel({ seriesIndex: 0 }, [x, y]) as number[] | number;
  if (!Array.isArray(at)) return null;
  const n = (horizontal ? opt.yAxis?.[0]?.data : opt.xAxis?.[0]?.data)?.length ?? 0;
  const idx = Math.round(horizontal ? at[1] : at[0]);
  if (!(idx >= 0 && idx < n)) return null;
  if (horizontal) return { seriesIndex: 0, dataIndex: idx };
  let best = -1;
  let bestD = Infinity;
  const stacked: Record<string, number> = {}; // stacked areas: the running top of each stack
  series.forEach((s, i) => {
    const raw = s.data?.[idx];
    let v = typeof raw === 'number' ? raw : (raw as { value?: number } | undefined)?.value;
    if (typeof v !== 'number') return;
    if (s.stack) {
      v += stacked[s.stack] ?? 0;
      stacked[s.stack] = v;
    }
    const px = c.convertToPixel({ seriesIndex: i }, [idx, v]) as number[] | number;
    if (!Array.isArray(px)) return;
    const d = Math.abs(px[1] - y);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best < 0 ? null : { seriesIndex: best, dataIndex: idx };
}
