/** "Alerts & Budget": the active quota alerts with their fix, where alerts are mailed, and the monthly budget. */
import { Flex, Grid, GridItem } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import type { BillingData } from '../billing/model';
import { ActiveAlerts } from './ActiveAlerts';
import { BudgetCard } from './BudgetCard';
import { NotificationSettingsCard } from './NotificationSettingsCard';
import type { AlertFeatures } from './types';

export interface AlertsTabProps {
  api: BillingApi;
  data: BillingData;
  onViewPlans: () => void;
  onManageAddons: () => void;
}

export function AlertsTab({ api, data, onViewPlans, onManageAddons }: AlertsTabProps) {
  const currency = data.subscription.monthlyCost?.currency ?? data.plans[0]?.currency ?? 'USD';
  const features: AlertFeatures = data.config.features;
  return (
    <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
      <ActiveAlerts api={api} data={data} currency={currency} onViewPlans={onViewPlans} onManageAddons={onManageAddons} />
      <Grid hasGutter md={6}>
        <GridItem>
          <BudgetCard api={api} />
        </GridItem>
        <GridItem>
          <NotificationSettingsCard api={api} mailing={features.notifications === true} />
        </GridItem>
      </Grid>
    </Flex>
  );
}
