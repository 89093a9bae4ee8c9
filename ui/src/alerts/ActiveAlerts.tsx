/**
 * "Active alerts": each quota at its warning or critical level (the operator's `status.alerts`,
 * read through `/quota-status`), what a full quota refuses, and the cheapest fix: the API's plan
 * advice when it reads a Prometheus, else where to raise the quota.
 */
import { Alert, Button, Card, CardBody, CardTitle, Content, Flex, Skeleton } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import type { Recommendations } from '../api/types';
import { adviceOf } from '../billing/AdviceCard';
import { HistoryNotice } from '../billing/HistoryNotice';
import type { BillingData } from '../billing/model';
import { useLoad, type Loaded } from '../billing/useLoad';
import { quotaStatus } from './api';
import type { QuotaAlert } from './types';
import { consequence, ordered, percentText, raisesQuota, resourceName, since } from './words';

export interface ActiveAlertsProps {
  api: BillingApi;
  data: BillingData;
  currency: string;
  onViewPlans: () => void;
  onManageAddons: () => void;
}

interface FixProps extends Omit<ActiveAlertsProps, 'api'> {
  advice: Loaded<Recommendations> | null;
}

/** What a Turbo add-on adds to; pods, load balancers and public IPv4 come with a plan only. */
const RAISED_BY_ADDONS = new Set(['cpu', 'memory', 'storage']);

/** The fix under one alert: the advice that raises the quota, or the two ways to raise it. */
function Fix({ resource, advice, data, currency, onViewPlans, onManageAddons }: FixProps & { resource: string }) {
  if (advice?.state === 'loading') return <Skeleton width="40%" screenreaderText="Loading the cheapest fix" />;
  const answer = advice?.state === 'done' ? advice.value : null;
  const suggestion = answer?.suggestion ?? null;
  const shown = raisesQuota(suggestion) ? adviceOf(suggestion, data, answer?.current.currency ?? currency) : null;
  if (suggestion && shown) {
    return (
      <Content component="p" data-testid="alert-fix">
        <strong>Cheapest fix: {shown.title}.</strong> {suggestion.reason}{' '}
        <Button variant="link" isInline onClick={shown.action === 'plans' ? onViewPlans : onManageAddons}>
          {shown.action === 'plans' ? 'Compare plans' : 'See add-ons'}
        </Button>
      </Content>
    );
  }
  const addons = RAISED_BY_ADDONS.has(resource);
  return (
    <Content component="p" data-testid="alert-fix">
      <strong>To fix:</strong> free what is not needed, or raise the quota with{' '}
      {addons && (
        <>
          <Button variant="link" isInline onClick={onManageAddons}>
            a Turbo add-on
          </Button>{' '}
          or{' '}
        </>
      )}
      <Button variant="link" isInline onClick={onViewPlans}>
        a larger plan
      </Button>
      .
    </Content>
  );
}

function AlertItem({ alert, ...fix }: FixProps & { alert: QuotaAlert }) {
  const name = resourceName(alert.resource);
  return (
    <Alert
      component="h3"
      isInline
      variant={alert.level === 'critical' ? 'danger' : 'warning'}
      title={`${name} at ${percentText(alert.percent)} of its quota (${alert.level})`}
      data-testid={`alert-${alert.resource}`}
    >
      <Content component="p">
        {consequence(alert)} Since {since(alert.since)}.
      </Content>
      <Fix resource={alert.resource} {...fix} />
    </Alert>
  );
}

/** Advice is read only with history behind the API (`features.history`), and only when an alert needs it. */
function useAdvice(api: BillingApi, wanted: boolean): Loaded<Recommendations> | null {
  const [advice] = useLoad<Recommendations | null>(() => (wanted ? api.recommendations() : Promise.resolve(null)), wanted ? 'advice' : 'none');
  if (!wanted) return null;
  if (advice.state !== 'done') return advice;
  return advice.value === null ? { state: 'loading' } : { state: 'done', value: advice.value };
}

export function ActiveAlerts({ api, ...rest }: ActiveAlertsProps) {
  const [status, retry] = useLoad(() => quotaStatus(api), 'quota-status');
  const alerts = status.state === 'done' ? ordered(status.value.alerts ?? []) : [];
  const advice = useAdvice(api, rest.data.config.features.history === true && alerts.length > 0);
  return (
    <Card data-testid="active-alerts">
      <CardTitle component="h2" className="oq-section-title">
        Active alerts
      </CardTitle>
      <CardBody>
        {status.state === 'loading' && <Skeleton width="60%" screenreaderText="Loading the quota alerts" />}
        {status.state === 'failed' && <HistoryNotice what="The quota alerts" error={status.error} onRetry={retry} />}
        {status.state === 'done' && alerts.length === 0 && (
          <Content component="p" data-testid="alerts-none">
            No quota alerts: every quota is below its warning level.
          </Content>
        )}
        <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
          {alerts.map((a) => (
            <AlertItem key={a.resource} alert={a} advice={advice} {...rest} />
          ))}
        </Flex>
      </CardBody>
    </Card>
  );
}
