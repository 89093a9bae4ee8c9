/** A valid sign-in with neither organization admin rights nor projects. */
import { EmptyState, EmptyStateBody } from '@patternfly/react-core';
import LockIcon from '@patternfly/react-icons/dist/esm/icons/lock-icon';

export function NoAccess() {
  return (
    <EmptyState titleText="No access to billing" headingLevel="h2" icon={LockIcon}>
      <EmptyStateBody>
        Your account is neither an administrator of an organization nor a member of any project. Ask your organization&apos;s administrator
        for access.
      </EmptyStateBody>
    </EmptyState>
  );
}
