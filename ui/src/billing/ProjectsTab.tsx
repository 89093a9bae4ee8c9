/**
 * Projects (org admins): each namespace of the organization's tree with its usage, its share
 * of the organization's enforced quota, and its cap, which the admin edits (CapModal). The
 * organization's own namespace has no cap: its quota is the plan.
 */
import { useState } from 'react';
import { Alert, Button, Card, CardBody, CardTitle, Content, Spinner } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import type { CapChange, Project, ProjectUsageValue } from '../api/types';
import { amount } from './format';
import { CapModal } from './CapModal';
import { HistoryNotice } from './HistoryNotice';
import { useLoad } from './useLoad';

/** `/projects` for a card or tab, with its own loading, failure and retry. */
export function useProjects(api: BillingApi) {
  return useLoad(() => api.projects(), 'projects');
}

export const PROJECT_COLUMNS: { key: 'cpu' | 'memory' | 'storage' | 'pods'; label: string; unit: string }[] = [
  { key: 'cpu', label: 'CPU', unit: ' cores' },
  { key: 'memory', label: 'Memory', unit: ' Gi' },
  { key: 'storage', label: 'Storage', unit: ' Gi' },
  { key: 'pods', label: 'Pods', unit: '' },
];

function used(v: ProjectUsageValue | undefined, unit: string): string {
  if (v === undefined) return '—';
  const value = typeof v === 'object' ? v.used : v;
  return typeof value === 'number' ? `${amount(value)}${unit}` : value;
}

/** A share of the organization's quota, as people read it: `12 %`, `<1 %`. */
export function percentOf(share: number | null | undefined): string {
  if (share === null || share === undefined) return '';
  const pct = share * 100;
  if (pct > 0 && pct < 1) return '<1 % of plan';
  return `${String(Math.round(pct))} % of plan`;
}

/** One project's use of one resource: used, its share of the organization's quota and (`withCap`) its cap. */
export function UsageCell({ project: p, column: c, withCap = false, idPrefix = '' }: { project: Project; column: (typeof PROJECT_COLUMNS)[number]; withCap?: boolean; idPrefix?: string }) {
  const cap = withCap ? p.cap?.[c.key] : undefined;
  return (
    <td data-testid={`${idPrefix}${p.namespace}-${c.key}`}>
      <div>{used(p.usage?.[c.key], c.unit)}</div>
      <div className="oq-muted">{[percentOf(p.share?.[c.key]), cap === null || cap === undefined ? '' : `cap ${String(cap)}`].filter(Boolean).join(' · ')}</div>
    </td>
  );
}

/** The head of a table of projects: a column per resource (and one for the row's actions). */
export function ProjectsHead({ withActions = false }: { withActions?: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col">Project</th>
        {PROJECT_COLUMNS.map((c) => (
          <th scope="col" key={c.key}>
            {c.label}
          </th>
        ))}
        {withActions && (
          <th scope="col">
            <span className="pf-v6-screen-reader">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}

export function ProjectsTab({ api, organization }: { api: BillingApi; organization: string }) {
  const [load, reload] = useProjects(api);
  const [editing, setEditing] = useState<Project | null>(null);
  const [saved, setSaved] = useState<CapChange | null>(null);

  if (load.state === 'loading') return <Spinner size="lg" aria-label="Loading the projects" />;
  if (load.state === 'failed') return <HistoryNotice what="The project list" error={load.error} onRetry={reload} />;

  return (
    <Card>
      <CardTitle component="h2" className="oq-section-title">
        Projects
      </CardTitle>
      <CardBody>
        <Content component="p">
          What each project uses, its share of the organization&apos;s quota, and its cap: the most it may take of the plan. Caps may add up to more than the plan; each bounds one project
          and reserves nothing.
        </Content>
        {saved && (
          <Alert
            component="h3"
            isInline
            variant={saved.exceedsPlan.length ? 'info' : 'success'}
            title={saved.cap ? `${saved.namespace}: cap saved` : `${saved.namespace}: cap removed`}
            className="oq-notice"
          >
            {saved.message}. It applies within seconds.
          </Alert>
        )}
        <table className="oq-table" aria-label="Projects">
          <ProjectsHead withActions />
          <tbody>
            {load.value.map((p) => {
              const own = p.namespace === organization;
              return (
                <tr key={p.namespace}>
                  <td>
                    {p.namespace}
                    {own && <div className="oq-muted">the organization (its quota is the plan)</div>}
                  </td>
                  {PROJECT_COLUMNS.map((c) => (
                    <UsageCell key={c.key} project={p} column={c} withCap />
                  ))}
                  <td>
                    {!own && (
                      <Button
                        variant="secondary"
                        size="sm"
                        aria-label={`${p.cap ? 'Edit cap' : 'Set cap'} of ${p.namespace}`}
                        onClick={() => {
                          setSaved(null);
                          setEditing(p);
                        }}
                      >
                        {p.cap ? 'Edit cap' : 'Set cap'}
                      </Button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </CardBody>
      {editing && (
        <CapModal
          api={api}
          project={editing}
          onClose={() => {
            setEditing(null);
          }}
          onSaved={(answer) => {
            setEditing(null);
            setSaved(answer);
            reload();
          }}
        />
      )}
    </Card>
  );
}
