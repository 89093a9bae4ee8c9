/**
 * Confirmation of a plan or add-on change: what it costs per month, what each resource
 * becomes, and, when anything shrinks, the API's simulate-downgrade verdict on current
 * usage. A change that would not fit cannot be confirmed (the API would refuse it).
 */
import { useEffect, useState } from 'react';
import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Spinner,
} from '@patternfly/react-core';
import type { SimulateResult } from '../api/types';
import { ApiError } from '../api/client';
import { amount, money, RESOURCE_NAMES, resourceValue } from './format';
import type { Sold } from './model';

export interface ChangeProposal {
  title: string;
  summary: string;
  confirmLabel: string;
  danger?: boolean;
  currency: string;
  costBefore: number;
  costAfter: number;
  before: Sold | null;
  after: Sold | null;
  /** Set when the change shrinks something: asks the API whether current usage still fits. */
  simulate?: () => Promise<SimulateResult>;
  confirm: () => Promise<void>;
}

type Check = { state: 'none' } | { state: 'running' } | { state: 'done'; result: SimulateResult } | { state: 'failed'; error: string };

const ROWS: { key: keyof Sold; label: string; unit: string }[] = [
  { key: 'cpu', label: 'CPU', unit: 'cores' },
  { key: 'memory', label: 'Memory', unit: 'Gi' },
  { key: 'storage', label: 'Storage', unit: 'Gi' },
  { key: 'pods', label: 'Pods', unit: '' },
  { key: 'ipv4', label: 'Public IPv4', unit: '' },
];

function signed(delta: number, currency: string): string {
  if (delta === 0) return 'no change';
  return `${delta > 0 ? '+' : '−'}${money(Math.abs(delta), currency)}`;
}

export function ChangeModal({ proposal, onClose }: { proposal: ChangeProposal; onClose: () => void }) {
  const { simulate } = proposal;
  const [check, setCheck] = useState<Check>(simulate ? { state: 'running' } : { state: 'none' });
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!simulate) return;
    let live = true;
    simulate().then(
      (result) => {
        if (live) setCheck({ state: 'done', result });
      },
      (e: unknown) => {
        if (live) setCheck({ state: 'failed', error: e instanceof ApiError ? e.message : String(e) });
      },
    );
    return () => {
      live = false;
    };
  }, [simulate]);

  const blocked = check.state === 'running' || (check.state === 'done' && !check.result.fits);
  const delta = proposal.costAfter - proposal.costBefore;

  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-labelledby="change-modal-title" aria-describedby="change-modal-summary">
      <ModalHeader title={proposal.title} labelId="change-modal-title" descriptorId="change-modal-summary" description={proposal.summary} />
      <ModalBody>
        <DescriptionList isHorizontal isCompact aria-label="Monthly cost">
          <DescriptionListGroup>
            <DescriptionListTerm>Monthly cost</DescriptionListTerm>
            <DescriptionListDescription>
              {money(proposal.costBefore, proposal.currency)} → <strong>{money(proposal.costAfter, proposal.currency)}</strong> ({signed(delta, proposal.currency)})
            </DescriptionListDescription>
          </DescriptionListGroup>
          {proposal.after &&
            ROWS.map((row) => {
              const after = proposal.after?.[row.key] ?? 0;
              const before = proposal.before?.[row.key];
              const unit = row.unit ? ` ${row.unit}` : '';
              return (
                <DescriptionListGroup key={row.key}>
                  <DescriptionListTerm>{row.label}</DescriptionListTerm>
                  <DescriptionListDescription>
                    {before === undefined ? '' : `${amount(before)}${unit} → `}
                    {amount(after)}
                    {unit}
                  </DescriptionListDescription>
                </DescriptionListGroup>
              );
            })}
        </DescriptionList>
        <div className="oq-modal-check">
          {check.state === 'running' && (
            <span>
              <Spinner size="md" aria-label="Checking current usage" /> Checking current usage against the new limits…
            </span>
          )}
          {check.state === 'done' && check.result.fits && (
            <Alert component="h2" isInline isPlain variant="success" title="Current usage fits the new limits." />
          )}
          {check.state === 'done' && !check.result.fits && (
            <Alert component="h2" isInline variant="danger" title="Current usage would no longer fit">
              <p>Free these resources first, then make the change:</p>
              <table className="oq-table" aria-label="Resources that would no longer fit">
                <thead>
                  <tr>
                    <th scope="col">Resource</th>
                    <th scope="col">In use</th>
                    <th scope="col">New limit</th>
                  </tr>
                </thead>
                <tbody>
                  {check.result.violations.map((v) => (
                    <tr key={v.resource}>
                      <td>{RESOURCE_NAMES[v.resource] ?? v.resource}</td>
                      <td>{resourceValue(v.resource, v.used)}</td>
                      <td>{resourceValue(v.resource, v.newLimit)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Alert>
          )}
          {check.state === 'failed' && (
            <Alert component="h2" isInline variant="warning" title="Current usage could not be checked">
              {check.error}
            </Alert>
          )}
        </div>
      </ModalBody>
      <ModalFooter>
        <Button
          variant={proposal.danger ? 'danger' : 'primary'}
          isDisabled={blocked || busy}
          isLoading={busy}
          onClick={() => {
            setBusy(true);
            void proposal.confirm().finally(() => {
              setBusy(false);
            });
          }}
        >
          {proposal.confirmLabel}
        </Button>
        <Button variant="link" onClick={onClose}>
          Keep current
        </Button>
      </ModalFooter>
    </Modal>
  );
}
