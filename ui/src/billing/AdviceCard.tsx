/**
 * "Plan advice": the API's suggestion (a cheaper plan that fits, a plan or add-ons that last),
 * its money in the page's words and the API's reason underneath. Nothing to suggest is a quiet line.
 */
import { Alert, Button, Card, CardBody, CardTitle, Content, Skeleton } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import type { Suggestion } from '../api/types';
import { money, RESOURCE_NAMES } from './format';
import { addedAddons } from './history';
import type { BillingData } from './model';
import { HistoryNotice } from './HistoryNotice';
import { useLoad } from './useLoad';

interface Advice {
  title: string;
  variant: 'warning' | 'success';
  action: 'plans' | 'addons';
}

/** What the suggestion asks for, with what it costs or saves each month. */
export function adviceOf(s: Suggestion, data: BillingData, currency: string): Advice | null {
  const planName = (id: string | null) => data.plans.find((p) => p.id === id)?.displayName ?? id ?? 'another plan';
  const delta = money(Math.abs(s.monthlyCostDelta), currency);
  switch (s.kind) {
    case 'none':
      return null;
    case 'downgrade': {
      const blocked = (s.simulate?.violations ?? []).map((v) => RESOURCE_NAMES[v.resource] ?? v.resource);
      const fits = s.simulate === null || (s.simulate.fits && blocked.length === 0);
      return {
        title: fits
          ? `${planName(s.planId)} fits: saves ${delta} a month; nothing would stop fitting`
          : `${planName(s.planId)} saves ${delta} a month, but ${blocked.join(', ')} in use would not fit yet`,
        variant: 'success',
        action: 'plans',
      };
    }
    case 'upgrade':
      return { title: `Upgrade to ${planName(s.planId)}: +${delta} a month`, variant: 'warning', action: 'plans' };
    case 'addon': {
      const added = addedAddons(data.subscription.addons, s.addons)
        .map(([id, more]) => `${String(more)} × ${data.addons.find((a) => a.id === id)?.displayName ?? id}`)
        .join(', ');
      return { title: `Add ${added || 'add-ons'}: +${delta} a month`, variant: 'warning', action: 'addons' };
    }
  }
}

export interface AdviceCardProps {
  api: BillingApi;
  data: BillingData;
  currency: string;
  onViewPlans: () => void;
  onManageAddons: () => void;
}

export function AdviceCard({ api, data, currency, onViewPlans, onManageAddons }: AdviceCardProps) {
  const [answer, retry] = useLoad(() => api.recommendations(), 'recommendations');
  const advice =
    answer.state === 'done'
      ? adviceOf(answer.value.suggestion, data, answer.value.current.currency ?? currency)
      : null;
  return (
    <Card data-testid="plan-advice">
      <CardTitle component="h2" className="oq-section-title">
        Plan advice
      </CardTitle>
      <CardBody>
        {answer.state === 'loading' && <Skeleton width="60%" screenreaderText="Loading plan advice" />}
        {answer.state === 'failed' && <HistoryNotice what="Plan advice" error={answer.error} onRetry={retry} />}
        {answer.state === 'done' && !advice && (
          <Content component="p" className="oq-advice-quiet" data-testid="advice-none">
            {answer.value.suggestion.reason}
          </Content>
        )}
        {answer.state === 'done' && advice && (
          <Alert
            component="h3"
            isInline
            isPlain
            variant={advice.variant}
            title={advice.title}
            data-testid={`advice-${answer.value.suggestion.kind}`}
          >
            <Content component="p">{answer.value.suggestion.reason}</Content>
            {advice.action === 'plans' ? (
              <Button variant="link" isInline onClick={onViewPlans}>
                Compare plans
              </Button>
            ) : (
              <Button variant="link" isInline onClick={onManageAddons}>
                See add-ons
              </Button>
            )}
          </Alert>
        )}
      </CardBody>
    </Card>
  );
}
