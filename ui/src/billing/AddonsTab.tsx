/** Turbo Add-ons: one card per add-on, "Active × N", Add Another / Remove 1. */
import { Alert, Button, Card, CardBody, CardFooter, CardHeader, CardTitle, Content, Flex, FlexItem, Gallery } from '@patternfly/react-core';
import PlusCircleIcon from '@patternfly/react-icons/dist/esm/icons/plus-circle-icon';
import RocketIcon from '@patternfly/react-icons/dist/esm/icons/rocket-icon';
import type { Addon } from '../api/types';
import { cores, gib, money } from './format';
import { addonQuantity, hasLiveSubscription, type BillingData } from './model';
import { ExternalBillingLink } from './ExternalBillingLink';
import { HistoryNotice } from './HistoryNotice';

export interface AddonsProps {
  /** Reads the catalog again after it failed (`data.catalogError`). */
  onRetry?: () => void;
  data: BillingData;
  onAdd: (addon: Addon) => void;
  onRemove: (addon: Addon) => void;
}

function AddonCard({ addon, data, onAdd, onRemove }: { addon: Addon; data: BillingData } & Omit<AddonsProps, 'data'>) {
  const n = addonQuantity(data.subscription, addon.id);
  const titleId = `addon-${addon.id}-title`;
  const canChange = data.config.features.addons;
  const live = hasLiveSubscription(data.subscription);
  return (
    <Card isFullHeight className={n > 0 ? 'oq-card-current' : undefined} aria-labelledby={titleId} data-testid={`addon-${addon.id}`} component="article">
      <CardHeader>
        {n > 0 && (
          <span className="oq-corner-badge">Active × {n}</span>
        )}
        <Flex justifyContent={{ default: 'justifyContentSpaceBetween' }} alignItems={{ default: 'alignItemsBaseline' }} flexWrap={{ default: 'nowrap' }}>
          <CardTitle component="h2" id={titleId} className="oq-plan-name">
            <RocketIcon aria-hidden /> {addon.displayName}
          </CardTitle>
          <FlexItem className="oq-price">
            <span className="oq-price-amount">{money(addon.price, addon.currency)}</span>
            <span className="oq-price-period">/month</span>
          </FlexItem>
        </Flex>
        {addon.description && <Content component="p" className="oq-plan-desc">{addon.description}</Content>}
      </CardHeader>
      <CardBody>
        <dl className="oq-specs" aria-label={`${addon.displayName} resources`}>
          <div className="oq-spec">
            <dt>Additional vCPU</dt>
            <dd>+{cores(addon.cpu)}</dd>
          </div>
          <div className="oq-spec">
            <dt>Additional RAM</dt>
            <dd>+{gib(addon.memory)}</dd>
          </div>
          <div className="oq-spec">
            <dt>Additional Storage</dt>
            <dd>+{gib(addon.storage)}</dd>
          </div>
        </dl>
      </CardBody>
      {canChange && (
        <CardFooter>
          <Flex flexWrap={{ default: 'nowrap' }} spaceItems={{ default: 'spaceItemsSm' }}>
            <FlexItem grow={{ default: 'grow' }}>
              <Button
                variant="primary"
                isBlock
                icon={<PlusCircleIcon />}
                isDisabled={!live}
                aria-label={`${n > 0 ? 'Add another' : 'Add'} ${addon.displayName}`}
                onClick={() => {
                  onAdd(addon);
                }}
              >
                {n > 0 ? 'Add Another' : 'Add'}
              </Button>
            </FlexItem>
            {n > 0 && (
              <Button
                variant="danger"
                isDisabled={!live}
                aria-label={`Remove 1 ${addon.displayName}`}
                onClick={() => {
                  onRemove(addon);
                }}
              >
                Remove 1
              </Button>
            )}
          </Flex>
        </CardFooter>
      )}
    </Card>
  );
}

export function AddonsTab({ data, onAdd, onRemove, onRetry = () => undefined }: AddonsProps) {
  const { config } = data;
  const needsPlan = config.features.addons && !hasLiveSubscription(data.subscription);
  return (
    <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
      {config.provider === 'none' ? (
        <Alert component="h2" isInline variant="info" title="Add-ons are assigned by your platform administrator">
          This platform has no online payment: to add or remove a Turbo package, ask an administrator, who records it on your organization.
          The packages below are what can be assigned.
        </Alert>
      ) : (
        <Alert component="h2" isInline variant="info" title="Turbo Add-ons" actionLinks={<ExternalBillingLink config={config} />}>
          Need more resources? Add Turbo packages to boost your plan without upgrading. Add-ons apply to your whole organization, and the same
          add-on can be added several times to stack resources.
        </Alert>
      )}
      {needsPlan && <Alert component="h2" isInline variant="warning" title="Subscribe to a plan first: add-ons are billed with a subscription." />}
      {data.catalogError !== undefined && <HistoryNotice what="The add-on catalog" error={data.catalogError} onRetry={onRetry} />}
      {data.addons.length === 0 && data.catalogError === undefined && <Content component="p">No add-ons are offered.</Content>}
      <Gallery hasGutter minWidths={{ default: '300px' }} maxWidths={{ default: '480px' }} className="oq-cards-with-badges">
        {data.addons.map((a) => (
          <AddonCard key={a.id} addon={a} data={data} onAdd={onAdd} onRemove={onRemove} />
        ))}
      </Gallery>
    </Flex>
  );
}
