/**
 * One resource's usage, limit and forecast over time, drawn with PatternFly's charts (Victory).
 * Loaded lazily: the charts are most of the weight of the usage-history card, and that card
 * exists only when the API reads a Prometheus.
 */
import { useEffect, useRef, useState } from 'react';
import { getResizeObserver } from '@patternfly/react-core';
import { Chart } from '@patternfly/react-charts/dist/esm/victory/components/Chart/Chart';
import { ChartArea } from '@patternfly/react-charts/dist/esm/victory/components/ChartArea/ChartArea';
import { ChartAxis } from '@patternfly/react-charts/dist/esm/victory/components/ChartAxis/ChartAxis';
import { ChartLine } from '@patternfly/react-charts/dist/esm/victory/components/ChartLine/ChartLine';
import { ChartThemeColor } from '@patternfly/react-charts/dist/esm/victory/components/ChartTheme/ChartThemeColor';
import { ChartVoronoiContainer } from '@patternfly/react-charts/dist/esm/victory/components/ChartVoronoiContainer/ChartVoronoiContainer';
import type { HistoryPoint } from '../api/types';
import { amount } from './format';
import { withUnit } from './history';

export interface UsageChartProps {
  label: string;
  unit: string;
  used: HistoryPoint[];
  limit: HistoryPoint[];
  forecast: HistoryPoint[] | null;
  /** [first, last] unix seconds on the time axis */
  span: [number, number];
  /** The chart's title and description for screen readers. */
  title: string;
  description: string;
}

interface Datum {
  x: Date;
  y: number;
  name: string;
}

const COLORS = {
  used: 'var(--pf-t--global--color--brand--default)',
  limit: 'var(--pf-t--global--color--status--danger--default)',
  forecast: 'var(--pf-t--color--orange--50)',
};
const HEIGHT = 220;

const data = (points: HistoryPoint[], name: string): Datum[] => points.map(([t, y]) => ({ x: new Date(t * 1000), y, name }));
const dayTick = (t: Date | number) => new Intl.DateTimeFormat(navigator.language || 'en-US', { month: 'short', day: 'numeric' }).format(t);

/** The chart follows its container's width (Victory draws at a fixed size). */
function useWidth() {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(480);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => {
      if (element.clientWidth > 0) setWidth(element.clientWidth);
    };
    measure();
    return getResizeObserver(element, measure, true);
  }, []);
  return { ref, width };
}

export default function UsageChart({ label, unit, used, limit, forecast, span, title, description }: UsageChartProps) {
  const { ref, width } = useWidth();
  const values = [...used, ...limit, ...(forecast ?? [])].map(([, y]) => y);
  const top = Math.max(...values, 0);
  const legend = [
    { name: 'Used', symbol: { fill: COLORS.used } },
    ...(limit.length ? [{ name: 'Limit', symbol: { fill: COLORS.limit, type: 'minus' } }] : []),
    ...(forecast ? [{ name: 'Forecast', symbol: { fill: COLORS.forecast, type: 'minus' } }] : []),
  ];
  return (
    <div ref={ref} data-testid={`usage-chart-${label}`}>
      <Chart
        ariaTitle={title}
        ariaDesc={description}
        containerComponent={
          <ChartVoronoiContainer
            labels={({ datum }: { datum: Datum }) => `${datum.name}: ${withUnit(datum.y, unit)}`}
            constrainToVisibleArea
            voronoiDimension="x"
          />
        }
        domain={{ x: [new Date(span[0] * 1000), new Date(span[1] * 1000)], y: [0, top > 0 ? top * 1.1 : 1] }}
        scale={{ x: 'time', y: 'linear' }}
        legendData={legend}
        legendPosition="bottom-left"
        height={HEIGHT}
        width={width}
        padding={{ top: 10, right: 20, bottom: 70, left: 50 }}
        themeColor={ChartThemeColor.blue}
      >
        <ChartAxis tickFormat={dayTick} tickCount={width < 400 ? 3 : 5} fixLabelOverlap />
        <ChartAxis dependentAxis showGrid tickFormat={(y: number) => amount(y)} tickCount={4} />
        <ChartArea data={data(used, 'Used')} style={{ data: { fill: COLORS.used, fillOpacity: 0.25, stroke: COLORS.used, strokeWidth: 2 } }} />
        {limit.length > 0 && (
          <ChartLine data={data(limit, 'Limit')} style={{ data: { stroke: COLORS.limit, strokeWidth: 2, strokeDasharray: '6,3' } }} />
        )}
        {forecast && (
          <ChartLine data={data(forecast, 'Forecast')} style={{ data: { stroke: COLORS.forecast, strokeWidth: 2, strokeDasharray: '2,3' } }} />
        )}
      </Chart>
    </div>
  );
}
