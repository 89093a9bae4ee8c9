import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { QUOTA_STATUS, fail, ok } from './fakeApi';
import fixtures from '../../dev/fixtures.json';

const breakdown = () => within(screen.getByTestId('project-breakdown'));

describe('one failing read stays in its card', () => {
  it('/projects failing: the Overview is shown, the project card says what failed and retries', async () => {
    let answer = fail(500, 'the projects could not be listed');
    const { called } = await renderBilling({ routes: { 'GET /projects': () => answer } });
    expect(await breakdown().findByText('The project list could not be loaded')).toBeInTheDocument();
    expect(breakdown().getByText(/the projects could not be listed/)).toBeInTheDocument();
    // the other cards are all there
    expect(screen.getByText('Scale Pool')).toBeInTheDocument();
    expect(screen.getByTestId('monthly-total')).toHaveTextContent('€158');
    expect(screen.getByRole('progressbar', { name: 'CPU' })).toBeInTheDocument();
    answer = ok(fixtures.projects);
    await userEvent.click(breakdown().getByRole('button', { name: 'Try again' }));
    expect(await breakdown().findByText('acme-web')).toBeInTheDocument();
    expect(called('GET', '/projects')).toHaveLength(2);
  });

  it('/plans failing: the Overview is shown, and the plans tab says so and retries', async () => {
    let answer = fail(500, 'catalog unreadable');
    await renderBilling({ routes: { 'GET /plans': () => answer } });
    expect(screen.getByText('Scale Pool')).toBeInTheDocument();
    expect(screen.getByTestId('monthly-total')).toHaveTextContent('€158');
    await userEvent.click(screen.getByRole('tab', { name: 'Available Plans' }));
    expect(await screen.findByText('The plan catalog could not be loaded')).toBeInTheDocument();
    expect(screen.queryByText('No plans are offered.')).toBeNull();
    answer = ok(fixtures.plans);
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect((await screen.findAllByRole('button', { name: /^Switch to/ })).length).toBeGreaterThan(0);
    expect(screen.queryByText('The plan catalog could not be loaded')).toBeNull();
  });

  it('/addons failing: the add-ons tab says so', async () => {
    await renderBilling({ tab: 'addons', routes: { 'GET /addons': () => fail(503, 'not now') } });
    expect(await screen.findByText('The add-on catalog is unavailable right now')).toBeInTheDocument();
  });
});

describe('the Overview breaks usage down by project', () => {
  it('lists each project with its usage and its share of the quota, and leads to the caps', async () => {
    await renderBilling();
    expect(await breakdown().findByText('acme-web')).toBeInTheDocument();
    expect(screen.getByTestId('overview-acme-web-cpu')).toHaveTextContent('2.5 cores7 % of plan');
    expect(screen.getByTestId('overview-acme-web-cpu')).not.toHaveTextContent('cap');
    expect(screen.getByTestId('overview-acme-data-storage')).toHaveTextContent('200 Gi43 % of plan');
    await userEvent.click(breakdown().getByRole('button', { name: 'Caps per project' }));
    expect(screen.getByRole('tab', { name: 'Projects' })).toHaveAttribute('aria-selected', 'true');
  });

  it('says so when the organization has no projects', async () => {
    await renderBilling({ routes: { 'GET /projects': () => ok([]) } });
    expect(await breakdown().findByText('The organization has no projects yet.')).toBeInTheDocument();
  });
});

describe('the quota health is read at once, and its failure stays in its place', () => {
  it('/quota-status failing: the Overview says the health is unknown, with a retry, and shows the rest', async () => {
    let answer = fail(500, 'status unreadable');
    await renderBilling({ routes: { 'GET /quota-status': () => answer } });
    expect(await screen.findByText('The quota health could not be loaded')).toBeInTheDocument();
    expect(screen.getByTestId('monthly-total')).toHaveTextContent('€158');
    expect(await breakdown().findByText('acme-web')).toBeInTheDocument();
    answer = ok({ ...QUOTA_STATUS, overQuota: ['pods'] });
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('quota-health-pods')).toHaveTextContent('Pods is above its limit');
    expect(screen.queryByText('The quota health could not be loaded')).toBeNull();
  });
});
