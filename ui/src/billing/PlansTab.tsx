/** Available Plans: one card per self-service plan, the current one marked, Switch to / Subscribe. */
import { Alert, Button, Card, CardBody, CardFooter, CardHeader, CardTitle, Content, Flex, FlexItem, Grid } from '@patternfly/react-core';
import CheckCircleIcon from '@patternfly/react-icons/dist/esm/icons/check-circle-icon';
import type { Plan } from '../api/types';
import { amount, gib, money } from './format';
import { hasLiveSubscription, type BillingData } from './model';
import { ExternalBillingLink } from './ExternalBillingLink';
import { HistoryNotice } from './HistoryNotice';

export interface PlansProps {
  /** Reads the catalog again after it failed (`data.catalogError`). */
  onRetry?: () => void;
  data: BillingData;
  /** Opens the confirmation (cost, what changes, simulate-downgrade) for a plan. */
  onChoose: (plan: Plan) => void;
}

function Spec({ label, value }: { label: string; value: string }) {
  return (
    <div className="oq-spec">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function PlanCard({ plan, data, onChoose }: { plan: Plan; data: BillingData; onChoose: (p: Plan) => void }) {
  const sub = data.subscription;
  const isCurrent = plan.id === sub.planId;
  const live = hasLiveSubscription(sub);
  const titleId = `plan-${plan.id}-title`;
  const canBuy = data.config.features.checkout;
  const objectStorage = plan.objectStorage === null || plan.objectStorage === undefined ? null : gib(plan.objectStorage);
  return (
    <Card isFullHeight className={isCurrent ? 'oq-card-current' : undefined} aria-labelledby={titleId} data-testid={`plan-${plan.id}`} component="article">
      <CardHeader>
        {isCurrent && <span className="oq-corner-badge">Current Plan</span>}
        {plan.recommended && !isCurrent && <span className="oq-corner-badge oq-corner-badge--recommended">Recommended</span>}
        <Flex justifyContent={{ default: 'justifyContentSpaceBetween' }} alignItems={{ default: 'alignItemsBaseline' }} flexWrap={{ default: 'nowrap' }}>
          <CardTitle component="h2" id={titleId} className="oq-plan-name">
            {plan.displayName}
          </CardTitle>
          <FlexItem className="oq-price">
            <span className="oq-price-amount">{money(plan.price, plan.currency)}</span>
            <span className="oq-price-period">/month</span>
          </FlexItem>
        </Flex>
        {plan.description && <Content component="p" className="oq-plan-desc">{plan.description}</Content>}
      </CardHeader>
      <CardBody>
        <dl className="oq-specs" aria-label={`${plan.displayName} resources`}>
          <Spec label="CPU" value={`${amount(plan.resources.cpu)} cores`} />
          <Spec label="Memory" value={`${amount(plan.resources.memory)} Gi`} />
          <Spec label="NVMe Storage" value={`${amount(plan.resources.storage)} Gi`} />
          {objectStorage && <Spec label="Object Storage" value={objectStorage} />}
          <Spec label="Dedicated IPv4" value={String(plan.ipv4 ?? 0)} />
          <Spec label="Pods" value={String(plan.pods)} />
        </dl>
        {plan.features && plan.features.length > 0 && (
          <>
            <h3 className="oq-included">Included</h3>
            <ul className="oq-features">
              {plan.features.map((f) => (
                <li key={f}>
                  <CheckCircleIcon aria-hidden /> {f}
                </li>
              ))}
            </ul>
          </>
        )}
      </CardBody>
      <CardFooter>
        {isCurrent ? (
          <div className="oq-active-box" aria-label={`${plan.displayName} is your current plan`}>
            Active
          </div>
        ) : (
          canBuy && (
            <Button
              variant="secondary"
              isBlock
              onClick={() => {
                onChoose(plan);
              }}
            >
              {live ? `Switch to ${plan.displayName}` : `Subscribe to ${plan.displayName}`}
            </Button>
          )
        )}
      </CardFooter>
    </Card>
  );
}

export function PlansTab({ data, onChoose, onRetry = () => undefined }: PlansProps) {
  const { config } = data;
  return (
    <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
      {config.provider === 'whmcs' && (
        <Alert component="h2" isInline variant="info" title="Plans are bought and changed in WHMCS" actionLinks={<ExternalBillingLink config={config} />} />
      )}
      {config.provider === 'none' && (
        <Alert component="h2" isInline variant="info" title="Plans are assigned by your platform administrator">
          This platform has no online payment: ask an administrator to change your plan.
        </Alert>
      )}
      {data.catalogError !== undefined && <HistoryNotice what="The plan catalog" error={data.catalogError} onRetry={onRetry} />}
      {data.plans.length === 0 && data.catalogError === undefined && <Content component="p">No plans are offered.</Content>}
      <Grid hasGutter md={6} xl={4} className="oq-cards-with-badges">
        {data.plans.map((p) => (
          <PlanCard key={p.id} plan={p} data={data} onChoose={onChoose} />
        ))}
      </Grid>
    </Flex>
  );
}
