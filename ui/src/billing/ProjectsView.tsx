/** A project user: no organization billing, only the projects the token grants. */
import { Alert, Card, CardBody, CardTitle, Content, Flex } from '@patternfly/react-core';
import type { Project, ProjectUsageValue } from '../api/types';
import { amount } from './format';

function show(v: ProjectUsageValue | undefined, unit: string): string {
  if (v === undefined) return '—';
  const one = (x: number | string) => (typeof x === 'number' ? `${amount(x)}${unit}` : x);
  if (typeof v === 'object') return v.limit === undefined || v.limit === null ? one(v.used) : `${one(v.used)} / ${one(v.limit)}`;
  return one(v);
}

export function ProjectsView({ projects }: { projects: Project[] }) {
  return (
    <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
      <Alert component="h2" isInline variant="info" title="Organization billing is managed by your organization's administrators">
        Your account works in projects, so plans, payments and add-ons are not shown here. These are the projects you can use.
      </Alert>
      <Card>
        <CardTitle component="h2" className="oq-section-title">
          Your projects
        </CardTitle>
        <CardBody>
          {projects.length === 0 ? (
            <Content component="p">You have no projects yet.</Content>
          ) : (
            <table className="oq-table" aria-label="Your projects">
              <thead>
                <tr>
                  <th scope="col">Project namespace</th>
                  <th scope="col">Organization</th>
                  <th scope="col">CPU</th>
                  <th scope="col">Memory</th>
                  <th scope="col">Pods</th>
                </tr>
              </thead>
              <tbody>
                {projects.map((p) => (
                  <tr key={p.namespace}>
                    <td>{p.namespace}</td>
                    <td>{p.organization}</td>
                    <td>{show(p.usage?.cpu, ' cores')}</td>
                    <td>{show(p.usage?.memory, ' Gi')}</td>
                    <td>{show(p.usage?.pods, '')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </CardBody>
      </Card>
    </Flex>
  );
}
