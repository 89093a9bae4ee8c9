/** WHMCS (or another external billing system) manages payments: one link there instead of our buttons. */
import { Button } from '@patternfly/react-core';
import ExternalLinkAltIcon from '@patternfly/react-icons/dist/esm/icons/external-link-alt-icon';
import type { BillingConfig } from '../api/types';

export function ExternalBillingLink({ config }: { config: BillingConfig }) {
  if (config.provider !== 'whmcs' || !config.externalBillingUrl) return null;
  return (
    <Button component="a" variant="secondary" href={config.externalBillingUrl} target="_blank" rel="noopener noreferrer" icon={<ExternalLinkAltIcon />} iconPosition="end">
      Manage in WHMCS
    </Button>
  );
}
