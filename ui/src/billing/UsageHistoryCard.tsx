/**
 * "Usage over time": each resource's usage and limit over the last 7, 30 or 90 days, with
 * where the forecast says it goes. Its failures stay inside the card.
 */
import { lazy, Suspense, useState } from 'react';
import { Card, CardBody, CardHeader, CardTitle, Content, Grid, GridItem, Skeleton, Title, ToggleGroup, ToggleGroupItem } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import type { Forecast, UsageHistory } from '../api/types';
import { forecastLine, forecastText, HISTORY_RESOURCES, limitAhead, RANGES, seconds, withUnit, type HistoryRange } from './history';
import { HistoryNotice } from './HistoryNotice';
import { useLoad } from './useLoad';

const UsageChart = lazy(() => import('./UsageChart'));

function ResourceHistory({ history, label, forecast, range }: { history: UsageHistory; label: string; forecast: Forecast | null; range: HistoryRange }) {
  const f = forecast?.resources[history.resource];
  // The forecast's time is "now" (the same moment as its numbers); without one, the last sample's.
  const now = forecast ? seconds(forecast.generatedAt) : Math.max(...[...history.used, ...history.limit].map(([t]) => t));
  const line = forecastLine(f, now, range.days);
  const outlook = forecast ? forecastText(f, forecast.generatedAt) : '';
  const latest = f ? f.used : history.used.at(-1)?.[1];
  const limit = f ? f.limit : history.limit.at(-1)?.[1];
  const facts =
    latest === undefined
      ? 'No samples in this range'
      : `${withUnit(latest, history.unit)}${limit === undefined || limit === null ? '' : ` of ${withUnit(limit, history.unit)}`} now`;
  const empty = history.used.length === 0 && history.limit.length === 0;
  const end = line?.[1]?.[0] ?? now;
  return (
    <GridItem data-testid={`history-${history.resource}`}>
      <Title headingLevel="h3" size="md">
        {label}
      </Title>
      <Content component="p" className="oq-history-facts">
        {facts}
        {outlook && <> · <span data-testid={`outlook-${history.resource}`}>{outlook}</span></>}
      </Content>
      {empty ? (
        <Content component="p" className="oq-history-empty">
          Prometheus has no samples of {label} in the last {range.label}.
        </Content>
      ) : (
        <Suspense fallback={<Skeleton height="220px" screenreaderText={`Loading the ${label} chart`} />}>
          <UsageChart
            label={label}
            unit={history.unit}
            used={history.used}
            limit={limitAhead(history.limit, end)}
            forecast={line}
            span={[now - range.days * 86400, end]}
            title={`${label} over the last ${range.label}`}
            description={[facts, outlook].filter(Boolean).join('; ')}
          />
        </Suspense>
      )}
    </GridItem>
  );
}

export function UsageHistoryCard({ api }: { api: BillingApi }) {
  const [range, setRange] = useState<HistoryRange>(RANGES[1]);
  const [histories, retryHistories] = useLoad(() => Promise.all(HISTORY_RESOURCES.map((r) => api.usageHistory(r.key, range.range, range.step))), range.range);
  const [forecast, retryForecast] = useLoad(() => api.forecast(), 'forecast');
  const retry = () => {
    retryHistories();
    retryForecast();
  };
  return (
    <Card data-testid="usage-history">
      <CardHeader
        actions={{
          actions: (
            <ToggleGroup aria-label="Time range" isCompact>
              {RANGES.map((r) => (
                <ToggleGroupItem
                  key={r.range}
                  text={r.label}
                  buttonId={`range-${r.range}`}
                  isSelected={r.range === range.range}
                  onChange={() => {
                    setRange(r);
                  }}
                />
              ))}
            </ToggleGroup>
          ),
          hasNoOffset: true,
        }}
      >
        <CardTitle component="h2" className="oq-section-title">
          Usage over time
        </CardTitle>
      </CardHeader>
      <CardBody>
        {histories.state === 'failed' && <HistoryNotice what="Usage history" error={histories.error} onRetry={retry} />}
        {/* Drawn once the forecast is settled too, so the time axis does not jump when it comes. */}
        {(histories.state === 'loading' || (histories.state === 'done' && forecast.state === 'loading')) && (
          <Skeleton height="220px" screenreaderText="Loading usage history" />
        )}
        {histories.state === 'done' && forecast.state !== 'loading' && (
          <>
            {forecast.state === 'failed' && <HistoryNotice what="The forecast" error={forecast.error} onRetry={retryForecast} />}
            <Grid hasGutter md={6} xl={4}>
              {histories.value.map((h) => (
                <ResourceHistory
                  key={h.resource}
                  history={h}
                  label={HISTORY_RESOURCES.find((r) => r.key === h.resource)?.label ?? h.resource}
                  forecast={forecast.state === 'done' ? forecast.value : null}
                  range={range}
                />
              ))}
            </Grid>
          </>
        )}
      </CardBody>
    </Card>
  );
}
