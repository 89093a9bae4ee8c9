/** The frame of every state of the page: masthead with the user, the page title and intro. */
import type { ReactNode } from 'react';
import { Button, Content, Flex, FlexItem, Masthead, MastheadContent, MastheadMain, MastheadBrand, Page, PageSection, Title } from '@patternfly/react-core';
import SignOutAltIcon from '@patternfly/react-icons/dist/esm/icons/sign-out-alt-icon';
import { header, type Audience } from './billing/audience';
import { TITLE_ID } from './billing/useKeepFocus';

export interface ShellProps {
  userName?: string | null;
  onSignOut?: () => void;
  /** Whom the header speaks to (an organization's administrator until the API has said otherwise). */
  audience?: Audience;
  children: ReactNode;
}

export function Shell({ userName, onSignOut, audience = { kind: 'admin' }, children }: ShellProps) {
  const { title, intro } = header(audience);
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
        <Title headingLevel="h1" size="2xl" id={TITLE_ID} tabIndex={-1}>
          {title}
        </Title>
        <Content component="p" className="oq-intro" data-testid="page-intro">
          {intro}
        </Content>
      </PageSection>
      <PageSection>{children}</PageSection>
    </Page>
  );
}
