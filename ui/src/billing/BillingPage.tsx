/**
 * The org admin's "Billing & Subscriptions": four tabs over one loaded state and the
 * Projects tab (usage, share and caps of the organization's projects), the
 * confirmations every payment action goes through, and the outcome of a checkout return.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { Tab, Tabs, TabTitleIcon, TabTitleText } from '@patternfly/react-core';
import BellIcon from '@patternfly/react-icons/dist/esm/icons/bell-icon';
import CreditCardIcon from '@patternfly/react-icons/dist/esm/icons/credit-card-icon';
import CubesIcon from '@patternfly/react-icons/dist/esm/icons/cubes-icon';
import MoneyBillIcon from '@patternfly/react-icons/dist/esm/icons/money-bill-icon';
import RocketIcon from '@patternfly/react-icons/dist/esm/icons/rocket-icon';
import ShoppingCartIcon from '@patternfly/react-icons/dist/esm/icons/shopping-cart-icon';
import type { BillingApi } from '../api/client';
import type { Addon, OrganizationSubscription, Plan } from '../api/types';
import { date } from './format';
import { currentPlan, hasLiveSubscription, monthlyTotal, shrinks, sold, withAddonDelta, type BillingData } from './model';
import { ChangeModal, type ChangeProposal } from './ChangeModal';
import { OverviewTab } from './OverviewTab';
import { SubscriptionTab } from './SubscriptionTab';
import { PlansTab } from './PlansTab';
import { AddonsTab } from './AddonsTab';
import { ProjectsTab } from './ProjectsTab';
import { AlertsTab } from '../alerts/AlertsTab';
import { GO_AHEAD, overBudgetOf, overBudgetTitle } from '../alerts/overBudget';
import { useKeepFocus } from './useKeepFocus';
import { noticeOf, PageNotice, type Notice } from './PageNotice';

export const TABS = ['overview', 'subscription', 'plans', 'addons', 'projects', 'alerts'] as const;
export type TabKey = (typeof TABS)[number];

/** When to read the subscription again after a change the provider confirms asynchronously. */
export const RELOAD_AFTER_MS = [3000, 10000];

export function tabFromHash(hash: string): TabKey {
  const key = hash.replace(/^#/, '');
  return (TABS as readonly string[]).includes(key) ? (key as TabKey) : 'overview';
}

export interface BillingPageProps {
  api: BillingApi;
  data: BillingData;
  onSubscription: (sub: OrganizationSubscription) => void;
  /** Leaves the page for Stripe Checkout or the customer portal. */
  navigate?: (url: string) => void;
  initialTab?: TabKey;
  /** Signs in again (offered when the session expires mid-action). */
  onSignIn?: () => void;
  /** Reads the plans and add-ons again after they failed (`data.catalogError`). */
  onRetryCatalog?: () => void;
}

/** The subscription marked pending (a change requested, not confirmed yet: no limits known for it). */
function withRequested(data: BillingData): BillingData {
  return { ...data, subscription: { ...data.subscription, pending: true, pendingLimit: data.subscription.pendingLimit ?? null } };
}

export function BillingPage({ api, data: loaded, onSubscription, navigate = (u) => { window.location.assign(u); }, initialTab, onSignIn, onRetryCatalog = () => undefined }: BillingPageProps) {
  const [tab, setTab] = useState<TabKey>(initialTab ?? tabFromHash(window.location.hash));
  const [notice, setNotice] = useState<Notice | null>(null);
  const [proposal, setProposalState] = useState<ChangeProposal | null>(null);
  const dialogOpened = useKeepFocus(proposal !== null);
  const setProposal = (next: ChangeProposal | null) => {
    if (next) dialogOpened();
    setProposalState(next);
  };
  // A plan change the provider has not confirmed yet is pending until the subscription shows it.
  const [requested, setRequested] = useState<string | null>(null);
  const data = requested !== null && requested !== loaded.subscription.planId ? withRequested(loaded) : loaded;
  const sub = data.subscription;

  // Each tab has its own address (#plans, ...): links work and Back returns to the last tab.
  const select = useCallback((key: TabKey) => {
    setTab(key);
    if (window.location.hash !== `#${key}`) window.location.hash = key;
  }, []);
  useEffect(() => {
    const follow = () => {
      setTab(tabFromHash(window.location.hash));
    };
    window.addEventListener('hashchange', follow);
    return () => {
      window.removeEventListener('hashchange', follow);
    };
  }, []);

  const reload = useCallback(async () => {
    try {
      onSubscription(await api.subscription());
    } catch (e) {
      setNotice(noticeOf(e, 'Could not reload the subscription'));
    }
  }, [api, onSubscription]);

  // Back from Stripe Checkout with ?sessionId=: ask the API whether it completed.
  useEffect(() => {
    const url = new URL(window.location.href);
    const sessionId = url.searchParams.get('sessionId');
    if (!sessionId) return;
    url.searchParams.delete('sessionId');
    window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
    api.verifyCheckout(sessionId).then(
      (v) => {
        const done = v.complete === true || v.status === 'complete';
        setNotice(
          done
            ? { variant: 'success', title: `Checkout complete${v.planName ? `: ${v.planName} is active` : ''}`, body: 'Thank you. The new quota applies within seconds.' }
            : { variant: 'warning', title: 'Checkout not completed', body: `The payment session is ${v.status ?? 'still open'}. No plan was changed.` },
        );
        void reload();
      },
      (e: unknown) => {
        setNotice(noticeOf(e, 'Could not verify the checkout'));
      },
    );
  }, [api, reload]);

  // A payment provider confirms changes by webhook, a little later: look again after a while.
  const later = useRef<number[]>([]);
  useEffect(
    () => () => {
      later.current.forEach((t) => {
        window.clearTimeout(t);
      });
    },
    [],
  );
  const act = async (what: string, run: (overBudget: boolean) => Promise<Notice | null>, overBudget = false): Promise<void> => {
    try {
      const n = await run(overBudget);
      if (n) setNotice(n);
      setProposal(null);
      await reload();
      for (const ms of RELOAD_AFTER_MS) later.current.push(window.setTimeout(() => void reload(), ms));
    } catch (e) {
      setProposal(null);
      const over = overBudget ? null : overBudgetOf(e);
      setNotice(over ? { variant: 'warning', title: overBudgetTitle(what, over), action: { label: GO_AHEAD, run: () => void act(what, run, true) } } : noticeOf(e, what));
    }
  };

  const plan = currentPlan(data);
  const live = hasLiveSubscription(sub);
  const currency = sub.monthlyCost?.currency ?? plan?.currency ?? data.plans[0]?.currency ?? 'USD';
  const costNow = sub.monthlyCost?.total ?? monthlyTotal(plan, sub.addons, data.addons);

  const choosePlan = (p: Plan) => {
    const keep = live ? sub.addons : [];
    const before = sold(plan, sub.addons, data.addons);
    const after = sold(p, keep, data.addons);
    const down = shrinks(before, after);
    setProposal({
      title: live ? `${down ? 'Downgrade' : 'Upgrade'} to ${p.displayName}` : `Subscribe to ${p.displayName}`,
      summary: live
        ? `Your subscription changes from ${plan?.displayName ?? sub.planName ?? 'the current plan'} to ${p.displayName}; the price difference is prorated.`
        : `You continue to the payment page to subscribe to ${p.displayName}.`,
      confirmLabel: live ? `Switch to ${p.displayName}` : 'Continue to checkout',
      currency,
      costBefore: costNow,
      costAfter: monthlyTotal(p, keep, data.addons),
      before,
      after,
      ...(down ? { simulate: () => api.simulateDowngrade(p.id, keep) } : {}),
      confirm: () =>
        act(`Could not change to ${p.displayName}`, async (overBudget) => {
          if (!live) {
            const { checkoutUrl } = await api.startCheckout(p.id, []);
            navigate(checkoutUrl);
            return null;
          }
          await api.changePlan(p.id, overBudget);
          setRequested(p.id);
          return { variant: 'success', title: `Plan change to ${p.displayName} requested`, body: 'It shows here as soon as the payment provider confirms it.' };
        }),
    });
  };

  const changeAddon = (a: Addon, delta: 1 | -1) => {
    const next = withAddonDelta(sub.addons, a.id, delta);
    const before = sold(plan, sub.addons, data.addons);
    const after = sold(plan, next, data.addons);
    setProposal({
      title: delta > 0 ? `Add ${a.displayName}` : `Remove one ${a.displayName}`,
      summary: delta > 0 ? `${a.displayName} adds resources to the whole organization.` : `${a.displayName}'s resources leave the organization's quota.`,
      confirmLabel: delta > 0 ? `Add ${a.displayName}` : 'Remove 1',
      danger: delta < 0,
      currency,
      costBefore: costNow,
      costAfter: monthlyTotal(plan, next, data.addons),
      before,
      after,
      ...(delta < 0 && sub.planId ? { simulate: () => api.simulateDowngrade(sub.planId ?? '', next) } : {}),
      confirm: () =>
        act(delta > 0 ? `Could not add ${a.displayName}` : `Could not remove ${a.displayName}`, async (overBudget) => {
          await (delta > 0 ? api.addAddon(a.id, overBudget) : api.removeAddon(a.id));
          return { variant: 'success', title: delta > 0 ? `${a.displayName} added` : `One ${a.displayName} removed` };
        }),
    });
  };

  const managePayment = () => {
    api.customerPortal().then(
      ({ url }) => {
        navigate(url);
      },
      (e: unknown) => {
        setNotice(noticeOf(e, 'Could not open the payment portal'));
      },
    );
  };

  const cancel = () =>
    act('Could not cancel the subscription', async () => {
      const r = await api.cancel();
      return { variant: 'info', title: r.periodEnd ? `Subscription canceled: it ends on ${date(r.periodEnd)}` : 'Subscription canceled at the end of the current period' };
    });

  return (
    <>
      {notice && (
        <PageNotice
          notice={notice}
          onSignIn={onSignIn}
          onClose={() => {
            setNotice(null);
          }}
        />
      )}
      <Tabs
        activeKey={tab}
        onSelect={(_e, key) => {
          select(tabFromHash(String(key)));
        }}
        aria-label="Billing sections"
        mountOnEnter
      >
        <Tab eventKey="overview" title={<><TabTitleIcon><MoneyBillIcon /></TabTitleIcon><TabTitleText>Overview</TabTitleText></>}>
          <div className="oq-tab-body">
            <OverviewTab api={api} data={data} onViewPlans={() => { select('plans'); }} onManageAddons={() => { select('addons'); }} onManagePayment={managePayment} onManageProjects={() => { select('projects'); }} />
          </div>
        </Tab>
        <Tab eventKey="subscription" title={<><TabTitleIcon><CreditCardIcon /></TabTitleIcon><TabTitleText>Subscription</TabTitleText></>}>
          <div className="oq-tab-body">
            <SubscriptionTab data={data} onCancel={cancel} onManagePayment={managePayment} onViewPlans={() => { select('plans'); }} />
          </div>
        </Tab>
        <Tab eventKey="plans" title={<><TabTitleIcon><ShoppingCartIcon /></TabTitleIcon><TabTitleText>Available Plans</TabTitleText></>}>
          <div className="oq-tab-body">
            <PlansTab data={data} onChoose={choosePlan} onRetry={onRetryCatalog} />
          </div>
        </Tab>
        <Tab eventKey="addons" title={<><TabTitleIcon><RocketIcon /></TabTitleIcon><TabTitleText>Turbo Add-ons</TabTitleText></>}>
          <div className="oq-tab-body">
            <AddonsTab data={data} onAdd={(a) => { changeAddon(a, 1); }} onRemove={(a) => { changeAddon(a, -1); }} onRetry={onRetryCatalog} />
          </div>
        </Tab>
        <Tab eventKey="projects" title={<><TabTitleIcon><CubesIcon /></TabTitleIcon><TabTitleText>Projects</TabTitleText></>}>
          <div className="oq-tab-body">
            <ProjectsTab api={api} organization={sub.organization} />
          </div>
        </Tab>
        <Tab eventKey="alerts" title={<><TabTitleIcon><BellIcon /></TabTitleIcon><TabTitleText>Alerts &amp; Budget</TabTitleText></>}>
          <div className="oq-tab-body">
            <AlertsTab api={api} data={data} onViewPlans={() => { select('plans'); }} onManageAddons={() => { select('addons'); }} />
          </div>
        </Tab>
      </Tabs>
      {proposal && (
        <ChangeModal
          proposal={proposal}
          onClose={() => {
            setProposal(null);
          }}
        />
      )}
    </>
  );
}
