import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';
import { fail, ok } from './fakeApi';

const BELOW = {
  resource: 'requests.cpu',
  used: '4',
  cap: '2',
  pods: ['etl-2', 'etl-3'],
  claims: [],
};

const row = (namespace: string) => within(screen.getByRole('row', { name: new RegExp(`^${namespace}`) }));

async function openCap(namespace: string) {
  await userEvent.click(screen.getByRole('button', { name: new RegExp(`^(Set|Edit) cap of ${namespace}$`) }));
  return within(await screen.findByRole('dialog', { name: `Cap ${namespace}` }));
}

describe('Projects tab', () => {
  it('shows each project’s usage, share of the plan and cap; the organization itself has no cap', async () => {
    await renderBilling({ tab: 'projects', waitFor: 'acme-web' });
    expect(screen.getByTestId('acme-web-cpu')).toHaveTextContent('2.5 cores7 % of plan · cap 4');
    expect(screen.getByTestId('acme-web-storage')).toHaveTextContent('40 Gi9 % of plan');
    expect(screen.getByTestId('acme-web-pods')).toHaveTextContent('92 % of plan · cap 20');
    expect(screen.getByTestId('acme-data-storage')).toHaveTextContent('200 Gi43 % of plan');
    expect(row('acme-web').getByRole('button')).toHaveTextContent('Edit cap');
    expect(row('acme-data').getByRole('button')).toHaveTextContent('Set cap');
    expect(row('acme the organization').queryByRole('button')).not.toBeInTheDocument();
  });

  it('checks a cap with a dry run before saving it', async () => {
    const fake = await renderBilling({ tab: 'projects', waitFor: 'acme-data' });
    const d = await openCap('acme-data');
    expect(d.getByRole('button', { name: 'Check' })).toBeDisabled();  // an empty cap caps nothing
    await userEvent.type(d.getByLabelText('CPU cap'), '2');
    await userEvent.type(d.getByLabelText('Pods cap'), '10');
    await userEvent.click(d.getByRole('button', { name: 'Check' }));
    expect(await d.findByText('What runs now fits the cap.')).toBeInTheDocument();
    expect(fake.calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
    expect(fake.called('PUT', '/project/acme-data/cap')[0]?.body).toEqual({ cpu: '2', pods: 10 });
    await userEvent.click(d.getByRole('button', { name: 'Save cap' }));
    expect(await screen.findByText('acme-data: cap saved')).toBeInTheDocument();
    expect(fake.called('PUT', '/project/acme-data/cap')).toHaveLength(2);
    expect(fake.called('GET', '/projects')).toHaveLength(2);  // read again after saving
  });

  it('a cap below what runs names the pods above it and is saved only when asked to', async () => {
    const fake = await renderBilling({
      tab: 'projects',
      waitFor: 'acme-data',
      routes: {
        'PUT /project/acme-data/cap': (body) =>
          (body as Record<string, unknown>).belowUsage === true
            ? ok({ namespace: 'acme-data', cap: { cpu: '2', memory: null, storage: null, pods: null }, dryRun: false, changed: true, violations: [BELOW], capsTotal: { cpu: '6', memory: '8Gi', storage: null, pods: 20 }, exceedsPlan: [], message: 'acme-data is capped' })
            : fail(409, 'the cap is below what acme-data already uses (requests.cpu)', { namespace: 'acme-data', violations: [BELOW] }),
      },
    });
    const d = await openCap('acme-data');
    await userEvent.type(d.getByLabelText('CPU cap'), '2');
    await userEvent.click(d.getByRole('button', { name: 'Check' }));
    const table = within(await d.findByRole('table', { name: 'Above the cap' }));
    expect(table.getByText('etl-2, etl-3')).toBeInTheDocument();
    expect(d.getByText(/Nothing running is stopped/)).toBeInTheDocument();
    const save = d.getByRole('button', { name: 'Save cap' });
    expect(save).toBeDisabled();
    await userEvent.click(d.getByLabelText('Set the cap anyway'));
    await userEvent.click(save);
    expect(await screen.findByText('acme-data: cap saved')).toBeInTheDocument();
    expect(fake.called('PUT', '/project/acme-data/cap').at(-1)?.body).toEqual({ cpu: '2', belowUsage: true });
  });

  it('shows what the API refuses and offers nothing to save', async () => {
    const fake = await renderBilling({
      tab: 'projects',
      waitFor: 'acme-data',
      routes: {
        'PUT /project/acme-data/cap': () =>
          fail(400, "invalid cap: cap.memory: 'lots' is not a quantity", { problems: ["cap.memory: 'lots' is not a quantity"] }),
      },
    });
    const d = await openCap('acme-data');
    await userEvent.type(d.getByLabelText('Memory cap'), 'lots');
    await userEvent.click(d.getByRole('button', { name: 'Check' }));
    expect(await d.findByText("invalid cap: cap.memory: 'lots' is not a quantity")).toBeInTheDocument();
    expect(d.queryByRole('button', { name: 'Save cap' })).not.toBeInTheDocument();
    expect(fake.called('PUT', '/project/acme-data/cap')).toHaveLength(1);
  });

  it('a changed field is checked again before it can be saved', async () => {
    await renderBilling({ tab: 'projects', waitFor: 'acme-web' });
    const d = await openCap('acme-web');
    expect(d.getByLabelText('CPU cap')).toHaveValue('4');
    await userEvent.click(d.getByRole('button', { name: 'Check' }));
    await d.findByRole('button', { name: 'Save cap' });
    await userEvent.type(d.getByLabelText('Memory cap'), '0');
    expect(d.queryByRole('button', { name: 'Save cap' })).not.toBeInTheDocument();
    expect(d.getByRole('button', { name: 'Check' })).toBeEnabled();
  });

  it('removes a cap', async () => {
    const fake = await renderBilling({ tab: 'projects', waitFor: 'acme-web' });
    const d = await openCap('acme-web');
    await userEvent.click(d.getByRole('button', { name: 'Remove cap' }));
    expect(await screen.findByText('acme-web: cap removed')).toBeInTheDocument();
    expect(fake.called('DELETE', '/project/acme-web/cap')).toHaveLength(1);
  });

  it('says so when the projects cannot be read', async () => {
    await renderBilling({ tab: 'projects', waitFor: 'The project list is unavailable right now', routes: { 'GET /projects': () => fail(503, 'the Kubernetes API is unreachable') } });
    expect(screen.getByText(/the Kubernetes API is unreachable/)).toBeInTheDocument();
  });
});
