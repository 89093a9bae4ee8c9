/**
 * Editing one project's cap: the fields (empty caps nothing), then the API's dry run shown
 * before anything is saved: the pods a cap below current usage leaves above it (kept running,
 * only new ones refused), and whether the caps add up to more than the plan. Saving a cap
 * below usage needs an explicit tick, as the API needs `belowUsage`.
 */
import { useState } from 'react';
import { Alert, Button, Checkbox, Form, FormGroup, Modal, ModalBody, ModalFooter, ModalHeader, TextInput } from '@patternfly/react-core';
import { ApiError, type BillingApi } from '../api/client';
import type { CapChange, CapRequest, CapValues, CapViolation, Project } from '../api/types';
import { RESOURCE_NAMES } from './format';

type Fields = Record<keyof CapValues, string>;

const FIELDS: { key: keyof CapValues; label: string; hint: string }[] = [
  { key: 'cpu', label: 'CPU', hint: 'cores, e.g. 2 or 500m' },
  { key: 'memory', label: 'Memory', hint: 'e.g. 4Gi' },
  { key: 'storage', label: 'Storage', hint: 'volume claims, e.g. 10Gi' },
  { key: 'pods', label: 'Pods', hint: 'a whole number' },
];

/** The dry run's verdict on the fields as they were checked. */
type Review =
  | { state: 'none' }
  | { state: 'checking' }
  | { state: 'fits'; answer: CapChange; checked: string }
  | { state: 'below'; violations: CapViolation[]; checked: string }
  | { state: 'failed'; error: string; problems: string[] };

function fieldsOf(cap: CapValues | null | undefined): Fields {
  return {
    cpu: cap?.cpu ?? '',
    memory: cap?.memory ?? '',
    storage: cap?.storage ?? '',
    pods: cap?.pods === null || cap?.pods === undefined ? '' : String(cap.pods),
  };
}

/** The request body: the fields that are not empty (pods as a number when it is a whole one). */
export function capRequest(fields: Fields): CapRequest {
  const [cpu, memory, storage, pods] = [fields.cpu.trim(), fields.memory.trim(), fields.storage.trim(), fields.pods.trim()];
  return {
    ...(cpu ? { cpu } : {}),
    ...(memory ? { memory } : {}),
    ...(storage ? { storage } : {}),
    ...(pods ? { pods: /^[0-9]+$/.test(pods) ? Number(pods) : pods } : {}),
  };
}

function problemsOf(e: unknown): { error: string; problems: string[] } {
  if (!(e instanceof ApiError)) return { error: String(e), problems: [] };
  const problems = Array.isArray(e.details.problems) ? e.details.problems.filter((p): p is string => typeof p === 'string') : [];
  return { error: e.message, problems };
}

export function CapModal({ api, project, onClose, onSaved }: { api: BillingApi; project: Project; onClose: () => void; onSaved: (answer: CapChange) => void }) {
  const [fields, setFields] = useState<Fields>(fieldsOf(project.cap));
  const [review, setReview] = useState<Review>({ state: 'none' });
  const [belowUsage, setBelowUsage] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const body = capRequest(fields);
  const current = JSON.stringify(body);
  const checkedNow = (review.state === 'fits' || review.state === 'below') && review.checked === current;
  const canSave = checkedNow && (review.state === 'fits' || belowUsage) && !busy;

  const check = () => {
    setReview({ state: 'checking' });
    setError(null);
    api.setCap(project.namespace, body, true).then(
      (answer) => {
        setReview({ state: 'fits', answer, checked: current });
      },
      (e: unknown) => {
        if (e instanceof ApiError && e.status === 409 && Array.isArray(e.details.violations)) {
          setReview({ state: 'below', violations: e.details.violations as CapViolation[], checked: current });
        } else {
          setReview({ state: 'failed', ...problemsOf(e) });
        }
      },
    );
  };

  const run = (action: () => Promise<CapChange>) => {
    setBusy(true);
    setError(null);
    action().then(
      (answer) => {
        setBusy(false);
        onSaved(answer);
      },
      (e: unknown) => {
        setBusy(false);
        setError(problemsOf(e).error);
      },
    );
  };

  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="cap-modal-title" aria-describedby="cap-modal-summary">
      <ModalHeader
        title={`Cap ${project.namespace}`}
        labelId="cap-modal-title"
        descriptorId="cap-modal-summary"
        description="The most this project may take of the organization's plan. Leave a field empty to leave it uncapped."
      />
      <ModalBody>
        <Form
          isHorizontal
          onSubmit={(e) => {
            e.preventDefault();
            check();
          }}
        >
          {FIELDS.map(({ key, label, hint }) => (
            <FormGroup key={key} label={label} fieldId={`cap-${key}`}>
              <TextInput
                id={`cap-${key}`}
                value={fields[key]}
                placeholder={hint}
                aria-label={`${label} cap`}
                onChange={(_e, value) => {
                  setFields({ ...fields, [key]: value });
                }}
              />
            </FormGroup>
          ))}
        </Form>
        <div className="oq-modal-check" aria-live="polite">
          {review.state === 'checking' && <span>Checking the cap against what runs now…</span>}
          {review.state === 'fits' && review.checked === current && (
            <Alert component="h2" isInline isPlain={review.answer.exceedsPlan.length === 0} variant={review.answer.exceedsPlan.length ? 'info' : 'success'} title="What runs now fits the cap.">
              {review.answer.exceedsPlan.length > 0 && (
                <p>
                  The caps together come to more than the plan for {review.answer.exceedsPlan.map((e) => RESOURCE_NAMES[e.resource] ?? e.resource).join(', ')}: allowed, a cap bounds one project and
                  reserves nothing.
                </p>
              )}
            </Alert>
          )}
          {review.state === 'below' && review.checked === current && (
            <Alert component="h2" isInline variant="warning" title="The cap is below what this project already uses">
              <p>Nothing running is stopped; these keep running, and new pods are refused until usage is below the cap:</p>
              <table className="oq-table" aria-label="Above the cap">
                <thead>
                  <tr>
                    <th scope="col">Resource</th>
                    <th scope="col">In use</th>
                    <th scope="col">Cap</th>
                    <th scope="col">Above the cap</th>
                  </tr>
                </thead>
                <tbody>
                  {review.violations.map((v) => (
                    <tr key={v.resource}>
                      <td>{RESOURCE_NAMES[v.resource] ?? v.resource}</td>
                      <td>{v.used}</td>
                      <td>{v.cap}</td>
                      <td>{[...v.pods, ...v.claims].join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Checkbox
                id="cap-below-usage"
                label="Set the cap anyway"
                isChecked={belowUsage}
                onChange={(_e, checked) => {
                  setBelowUsage(checked);
                }}
              />
            </Alert>
          )}
          {review.state === 'failed' && (
            <Alert component="h2" isInline variant="danger" title={review.error}>
              {review.problems.length > 1 && (
                <ul>
                  {review.problems.map((p) => (
                    <li key={p}>{p}</li>
                  ))}
                </ul>
              )}
            </Alert>
          )}
          {error && <Alert component="h2" isInline variant="danger" title={error} />}
        </div>
      </ModalBody>
      <ModalFooter>
        {checkedNow ? (
          <Button
            variant="primary"
            isDisabled={!canSave}
            isLoading={busy}
            onClick={() => {
              run(() => api.setCap(project.namespace, { ...body, ...(belowUsage ? { belowUsage: true } : {}) }));
            }}
          >
            Save cap
          </Button>
        ) : (
          <Button variant="primary" isDisabled={review.state === 'checking' || Object.keys(body).length === 0} onClick={check}>
            Check
          </Button>
        )}
        {project.cap && (
          <Button
            variant="danger"
            isDisabled={busy}
            onClick={() => {
              run(() => api.removeCap(project.namespace));
            }}
          >
            Remove cap
          </Button>
        )}
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}
