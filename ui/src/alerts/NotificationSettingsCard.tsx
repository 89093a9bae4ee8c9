/**
 * Where the organization's alerts are mailed: one address a line, at most 10. The page checks the
 * count and the shape; the API decides (its 400 is shown under the field, as the page's own checks are).
 */
import { useState } from 'react';
import {
  ActionGroup,
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Form,
  FormGroup,
  Skeleton,
  TextArea,
} from '@patternfly/react-core';
import { ApiError, type BillingApi } from '../api/client';
import { HistoryNotice } from '../billing/HistoryNotice';
import { useLoad } from '../billing/useLoad';
import { notificationSettings, saveNotificationSettings } from './api';
import { FieldHelp, type Saving } from './FieldHelp';

export const MAX_ADDRESSES = 10;
const ADDRESS = /^[^\s@]+@[^\s@]+$/;

/** The addresses in `text` (one a line, commas too), or why they cannot be sent. */
export function parseAddresses(text: string): { emails: string[] } | { problem: string } {
  const emails = text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (emails.length > MAX_ADDRESSES) return { problem: `At most ${String(MAX_ADDRESSES)} addresses (${String(emails.length)} given).` };
  const bad = emails.find((e) => !ADDRESS.test(e));
  if (bad !== undefined) return { problem: `"${bad.slice(0, 64)}" is not an e-mail address (name@example.com).` };
  return { emails };
}

export function NotificationSettingsCard({ api, mailing }: { api: BillingApi; mailing: boolean }) {
  const [loaded, retry] = useLoad(() => notificationSettings(api), 'notification-settings');
  const [text, setText] = useState<string | null>(null);
  const [saving, setSaving] = useState<Saving>({ state: 'idle' });
  // Untouched, the field shows what is stored; once edited, what was typed.
  const value = text ?? (loaded.state === 'done' ? loaded.value.emails.join('\n') : '');

  const save = async () => {
    const parsed = parseAddresses(value);
    if ('problem' in parsed) {
      setSaving({ state: 'refused', message: parsed.problem });
      return;
    }
    setSaving({ state: 'saving' });
    try {
      const answer = await saveNotificationSettings(api, parsed.emails);
      setText(answer.emails.join('\n'));
      const n = answer.emails.length;
      setSaving({ state: 'done', message: `Saved: ${n === 0 ? "alerts go to the organization's contact address" : `${String(n)} address(es)`}.` });
    } catch (e) {
      setSaving({ state: 'refused', message: e instanceof ApiError ? e.message : String(e) });
    }
  };

  const refused = saving.state === 'refused';
  return (
    <Card data-testid="notification-settings">
      <CardTitle component="h2" className="oq-section-title">
        Alert e-mails
      </CardTitle>
      <CardBody>
        {!mailing && (
          <Alert component="h3" isInline isPlain variant="info" title="This platform sends no e-mail yet" className="oq-notice">
            No mail server is configured for the billing API; the addresses are kept for when one is. Each alert is mailed once, with what it will refuse and the cheapest fix.
          </Alert>
        )}
        {loaded.state === 'loading' && <Skeleton width="60%" screenreaderText="Loading the notification settings" />}
        {loaded.state === 'failed' && <HistoryNotice what="The notification settings" error={loaded.error} onRetry={retry} />}
        {loaded.state === 'done' && (
          <Form
            onSubmit={(e) => {
              e.preventDefault();
              void save();
            }}
          >
            <FormGroup label="Addresses to mail alerts to" fieldId="oq-notify-emails">
              <TextArea
                id="oq-notify-emails"
                value={value}
                onChange={(_e, v) => {
                  setText(v);
                  if (saving.state !== 'saving') setSaving({ state: 'idle' });
                }}
                validated={refused ? 'error' : 'default'}
                aria-describedby="oq-notify-help"
                resizeOrientation="vertical"
                rows={4}
              />
              <FieldHelp
                id="oq-notify-help"
                saving={saving}
                hint={`One address a line, at most ${String(MAX_ADDRESSES)}. Empty: the organization's contact address.`}
                errorTestId="emails-error"
              />
            </FormGroup>
            <ActionGroup>
              <Button type="submit" variant="primary" isLoading={saving.state === 'saving'} isDisabled={saving.state === 'saving'}>
                Save addresses
              </Button>
            </ActionGroup>
          </Form>
        )}
      </CardBody>
    </Card>
  );
}
