/**
 * The Overview's per-project breakdown (org admins): what each project of the organization uses and
 * its share of the organization's quota, from `/projects` (the Projects tab edits caps). Its own
 * loading and failure: the rest of the Overview never waits for it.
 */
import { Button, Card, CardBody, CardTitle, Content, Skeleton } from '@patternfly/react-core';
import type { BillingApi } from '../api/client';
import { HistoryNotice } from './HistoryNotice';
import { PROJECT_COLUMNS, ProjectsHead, UsageCell, useProjects } from './ProjectsTab';

export function ProjectBreakdown({ api, onManageProjects }: { api: BillingApi; onManageProjects: () => void }) {
  const [load, retry] = useProjects(api);
  return (
    <Card data-testid="project-breakdown">
      <CardTitle component="h2" className="oq-section-title">
        Usage by project
      </CardTitle>
      <CardBody>
        {load.state === 'loading' && <Skeleton height="80px" screenreaderText="Loading the projects" />}
        {load.state === 'failed' && <HistoryNotice what="The project list" error={load.error} onRetry={retry} />}
        {load.state === 'done' && load.value.length === 0 && <Content component="p">The organization has no projects yet.</Content>}
        {load.state === 'done' && load.value.length > 0 && (
          <>
            {/* a phone scrolls the table, never the page; the region is focusable so a keyboard can scroll it */}
            <div className="oq-table-scroll" role="region" aria-label="Usage by project, scrollable" tabIndex={0}>
              <table className="oq-table" aria-label="Usage by project">
                <ProjectsHead />
                <tbody>
                  {load.value.map((p) => (
                    <tr key={p.namespace}>
                      <td>{p.namespace}</td>
                      {PROJECT_COLUMNS.map((c) => (
                        <UsageCell key={c.key} project={p} column={c} idPrefix="overview-" />
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Button variant="link" isInline onClick={onManageProjects}>
              Caps per project
            </Button>
          </>
        )}
      </CardBody>
    </Card>
  );
}
