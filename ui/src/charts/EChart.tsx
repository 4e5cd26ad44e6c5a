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

/** ChartClick is the data item a click landed on. */
export interface ChartClick { seriesIndex: number; dataIndex: number }

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
    c.on('click', (p) => {
      const e = p as { seriesIndex?: number; dataIndex?: number };
      if (e.seriesIndex !== undefined && e.dataIndex !== undefined) click.current?.({ seriesIndex: e.seriesIndex, dataIndex: e.dataIndex });
    });
    const ro = new ResizeObserver(() => c.resize());
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
