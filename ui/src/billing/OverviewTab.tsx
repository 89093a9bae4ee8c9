/**
 * Overview: current plan, monthly cost, active add-ons, resource usage bars, shortcuts; with a
 * Prometheus behind the API, plan advice and usage over time too.
 */
import { Button, Card, CardBody, CardTitle, Content, Flex, FlexItem, Grid, GridItem, Label, Progress } from '@patternfly/react-core';
import CreditCardIcon from '@patternfly/react-icons/dist/esm/icons/credit-card-icon';
import RocketIcon from '@patternfly/react-icons/dist/esm/icons/rocket-icon';
import ShoppingCartIcon from '@patternfly/react-icons/dist/esm/icons/shopping-cart-icon';
import type { BillingApi } from '../api/client';
import type { UsageItem } from '../api/types';
import { amount, date, money, usageLevel, usagePercent } from './format';
import type { BillingData } from './model';
import { StatusLabel } from './StatusLabel';
import { SubscriptionAlerts } from './SubscriptionAlerts';
import { ExternalBillingLink } from './ExternalBillingLink';
import { AdviceCard } from './AdviceCard';
import { UsageHistoryCard } from './UsageHistoryCard';
import { QuotaHealth } from './QuotaHealth';
import { ProjectBreakdown } from './ProjectBreakdown';
import { EnforcedExplanation, ObjectStorageFigure, PendingLabel, PendingNotice, USAGE_BARS } from './EnforcedQuota';

function UsageBar({ label, unit, item }: { label: string; unit: string; item: UsageItem }) {
  const pct = usagePercent(item);
  const u = unit ? ` ${unit}` : '';
  if (pct === null) {
    return <Progress title={label} value={0} label={`${amount(item.used)}${u} / no limit`} measureLocation="top" />;
  }
  const level = usageLevel(pct);
  const text = `${amount(item.used)} / ${amount(item.limit ?? 0)}${u} (${pct}%)`;
  return (
    <Progress
      title={label}
      value={Math.min(pct, 100)}
      label={text}
      valueText={text}
      measureLocation="top"
      variant={level}
      hideStatusIcon={level === 'success'}
      data-level={level}
    />
  );
}

export interface OverviewProps {
  /** Reads the history cards' data (shown only with `features.history`). */
  api: BillingApi;
  data: BillingData;
  onViewPlans: () => void;
  onManageAddons: () => void;
  onManagePayment: () => void;
  /** Shows the Projects tab (caps per project). */
  onManageProjects: () => void;
}

export function OverviewTab({ api, data, onViewPlans, onManageAddons, onManagePayment, onManageProjects }: OverviewProps) {
  const { subscription: sub, config, addons } = data;
  const cost = sub.monthlyCost;
  const currency = cost?.currency ?? data.plans[0]?.currency ?? 'USD';
  const active = sub.addons.filter((a) => a.quantity > 0);
  const usage = sub.usage ?? {};
  const history = config.features.history === true;
  return (
    <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
      <SubscriptionAlerts sub={sub} config={config} onManagePayment={onManagePayment} onViewPlans={onViewPlans} />
      <PendingNotice sub={sub} />
      <QuotaHealth api={api} data={data} />
      <Grid hasGutter md={4}>
        <Card isFullHeight>
          <CardTitle component="h2" className="oq-card-kicker">Current Plan</CardTitle>
          <CardBody>
            <div className="oq-card-big">
              {sub.planName ?? (sub.planId ? sub.planId : 'No plan')} {sub.pending && <PendingLabel />}
            </div>
            {sub.since && <Content component="p">Since {date(sub.since)}</Content>}
            {sub.status && sub.status !== 'active' && <StatusLabel status={sub.status} />}
            {!sub.planId && <Content component="p">No quota plan is assigned to {sub.organization}.</Content>}
          </CardBody>
        </Card>
        <Card isFullHeight>
          <CardTitle component="h2" className="oq-card-kicker">Monthly Cost</CardTitle>
          <CardBody>
            <div className="oq-card-huge" data-testid="monthly-total">{money(cost?.total ?? 0, currency)}</div>
            <Content component="p">
              Plan {money(cost?.plan ?? 0, currency)} + Add-ons {money(cost?.addons ?? 0, currency)}
            </Content>
          </CardBody>
        </Card>
        <Card isFullHeight>
          <CardTitle component="h2" className="oq-card-kicker">Active Add-ons</CardTitle>
          <CardBody>
            {active.length === 0 && <Content component="p">None</Content>}
            {active.map((a) => (
              <Flex key={a.addonId} alignItems={{ default: 'alignItemsCenter' }} spaceItems={{ default: 'spaceItemsSm' }} className="oq-addon-line">
                <RocketIcon aria-hidden />
                <FlexItem className="oq-addon-name">{addons.find((x) => x.id === a.addonId)?.displayName ?? a.addonId}</FlexItem>
                <Label isCompact aria-label={`quantity ${a.quantity}`}>×{a.quantity}</Label>
              </Flex>
            ))}
          </CardBody>
        </Card>
      </Grid>
      <Card>
        <CardTitle component="h2" className="oq-section-title">
          Resource Usage
        </CardTitle>
        <CardBody>
          <Grid hasGutter md={6}>
            {USAGE_BARS.map((b) => {
              const item = usage[b.key];
              return item ? (
                <GridItem key={b.key}>
                  <UsageBar label={b.label} unit={b.unit} item={item} />
                </GridItem>
              ) : null;
            })}
          </Grid>
          {Object.keys(usage).length === 0 && <Content component="p">No quota is enforced, so there is no usage to compare.</Content>}
          <EnforcedExplanation sub={sub} />
          <ObjectStorageFigure plan={data.plans.find((p) => p.id === sub.planId)} />
        </CardBody>
      </Card>
      <ProjectBreakdown api={api} onManageProjects={onManageProjects} />
      {history && <AdviceCard api={api} data={data} currency={currency} onViewPlans={onViewPlans} onManageAddons={onManageAddons} />}
      {history && <UsageHistoryCard api={api} />}
      <Flex spaceItems={{ default: 'spaceItemsMd' }}>
        <Button variant="secondary" icon={<ShoppingCartIcon />} onClick={onViewPlans}>
          View Plans
        </Button>
        <Button variant="secondary" icon={<RocketIcon />} onClick={onManageAddons}>
          Manage Add-ons
        </Button>
        {config.features.portal && sub.providerCustomerId && (
          <Button variant="tertiary" icon={<CreditCardIcon />} onClick={onManagePayment}>
            Manage Payment
          </Button>
        )}
        <ExternalBillingLink config={config} />
      </Flex>
    </Flex>
  );
}
