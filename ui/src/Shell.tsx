/** The frame of every state of the page: masthead with the user, the page title and intro. */
import type { ReactNode } from 'react';
import { Button, Content, Flex, FlexItem, Masthead, MastheadContent, MastheadMain, MastheadBrand, Page, PageSection, Title } from '@patternfly/react-core';
import SignOutAltIcon from '@patternfly/react-icons/dist/esm/icons/sign-out-alt-icon';

export interface ShellProps {
  userName?: string | null;
  onSignOut?: () => void;
  children: ReactNode;
}

export function Shell({ userName, onSignOut, children }: ShellProps) {
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadBrand>
          <span className="oq-brand">Kube-DC</span>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Flex justifyContent={{ default: 'justifyContentFlexEnd' }} alignItems={{ default: 'alignItemsCenter' }} className="oq-masthead-tools">
          {userName && <FlexItem className="oq-user">{userName}</FlexItem>}
          {onSignOut && (
            <Button variant="plain" className="oq-signout" icon={<SignOutAltIcon />} onClick={onSignOut} aria-label="Sign out">
              Sign out
            </Button>
          )}
        </Flex>
      </MastheadContent>
    </Masthead>
  );
  return (
    <Page masthead={masthead} mainContainerId="main">
      <PageSection>
        <Title headingLevel="h1" size="2xl">
          Billing &amp; Subscriptions
        </Title>
        <Content component="p" className="oq-intro">
          Monitor costs, manage subscriptions, and view available plans for your organization&apos;s projects.
        </Content>
      </PageSection>
      <PageSection>{children}</PageSection>
    </Page>
  );
}
