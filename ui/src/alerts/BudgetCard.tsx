/**
 * The monthly budget beside the monthly cost: set or cleared here; with one, a purchase that would
 * go above it is refused by the API unless confirmed. The amount is sent as typed (a decimal the API
 * reads exactly); the page only formats numbers for display.
 */
import { useState } from 'react';
import {
  ActionGroup,
  Button,
  Card,
  CardBody,
  CardTitle,
  Content,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Flex,
  Form,
  FormGroup,
  Progress,
  Skeleton,
  TextInput,
} from '@patternfly/react-core';
import { ApiError, type BillingApi } from '../api/client';
import { money, usageLevel } from '../billing/format';
import { HistoryNotice } from '../billing/HistoryNotice';
import { useLoad } from '../billing/useLoad';
import { budget, clearBudget, saveBudget } from './api';
import type { BudgetAnswer } from './types';
import { FieldHelp, type Saving } from './FieldHelp';

const AMOUNT = /^[0-9]+(\.[0-9]{1,2})?$/;

/** Why `text` is not a budget the API would take, or null. */
export function amountProblem(text: string): string | null {
  const t = text.trim();
  if (!AMOUNT.test(t) || Number(t) <= 0) return 'Enter a positive amount with at most two decimals, e.g. 300 or 249.50.';
  return null;
}

function Figures({ answer }: { answer: BudgetAnswer }) {
  const { monthly, current, percent, currency } = answer;
  return (
    <>
      <DescriptionList columnModifier={{ default: '2Col' }} isCompact>
        <DescriptionListGroup>
          <DescriptionListTerm>Monthly cost now</DescriptionListTerm>
          <DescriptionListDescription data-testid="budget-current">{current === null ? 'No priced plan' : money(current, currency)}</DescriptionListDescription>
        </DescriptionListGroup>
        <DescriptionListGroup>
          <DescriptionListTerm>Monthly budget</DescriptionListTerm>
          <DescriptionListDescription data-testid="budget-monthly">{monthly === null ? 'None set' : money(monthly, currency)}</DescriptionListDescription>
        </DescriptionListGroup>
      </DescriptionList>
      {monthly !== null && percent !== null && (
        <Progress
          title="Budget used"
          value={Math.min(percent, 100)}
          label={`${String(percent)} % of the budget`}
          valueText={`${String(percent)} % of the budget`}
          measureLocation="top"
          variant={usageLevel(percent)}
          data-testid="budget-bar"
        />
      )}
    </>
  );
}

export function BudgetCard({ api }: { api: BillingApi }) {
  const [loaded, retry] = useLoad(() => budget(api), 'budget');
  const [answer, setAnswer] = useState<BudgetAnswer | null>(null);
  const [text, setText] = useState('');
  const [saving, setSaving] = useState<Saving>({ state: 'idle' });
  const shown = answer ?? (loaded.state === 'done' ? loaded.value : null);

  const run = async (call: () => Promise<BudgetAnswer>, done: (a: BudgetAnswer) => string) => {
    setSaving({ state: 'saving' });
    try {
      const a = await call();
      setAnswer(a);
      setText('');
      setSaving({ state: 'done', message: done(a) });
    } catch (e) {
      setSaving({ state: 'refused', message: e instanceof ApiError ? e.message : String(e) });
    }
  };
  const save = () => {
    const problem = amountProblem(text);
    if (problem) {
      setSaving({ state: 'refused', message: problem });
      return;
    }
    void run(
      () => saveBudget(api, text.trim()),
      (a) => `Budget set to ${a.monthly === null ? text.trim() : money(a.monthly, a.currency)} a month.`,
    );
  };

  const refused = saving.state === 'refused';
  return (
    <Card data-testid="budget">
      <CardTitle component="h2" className="oq-section-title">
        Monthly budget
      </CardTitle>
      <CardBody>
        {loaded.state === 'loading' && !shown && <Skeleton width="60%" screenreaderText="Loading the budget" />}
        {loaded.state === 'failed' && !shown && <HistoryNotice what="The budget" error={loaded.error} onRetry={retry} />}
        {shown && (
          <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsLg' }}>
            <Figures answer={shown} />
            <Form
              onSubmit={(e) => {
                e.preventDefault();
                save();
              }}
            >
              <FormGroup label={`New monthly budget${shown.currency ? ` (${shown.currency})` : ''}`} fieldId="oq-budget-amount">
                <TextInput
                  id="oq-budget-amount"
                  inputMode="decimal"
                  value={text}
                  onChange={(_e, v) => {
                    setText(v);
                    if (saving.state !== 'saving') setSaving({ state: 'idle' });
                  }}
                  validated={refused ? 'error' : 'default'}
                  aria-describedby="oq-budget-help"
                />
                <FieldHelp
                  id="oq-budget-help"
                  saving={saving}
                  hint="With a budget, a plan change or add-on that would take the monthly cost above it needs your confirmation."
                  errorTestId="budget-error"
                />
              </FormGroup>
              <ActionGroup>
                <Button type="submit" variant="primary" isDisabled={saving.state === 'saving'}>
                  Set budget
                </Button>
                {shown.monthly !== null && (
                  <Button variant="secondary" isDisabled={saving.state === 'saving'} onClick={() => void run(() => clearBudget(api), () => 'Budget cleared.')}>
                    Clear budget
                  </Button>
                )}
              </ActionGroup>
            </Form>
          </Flex>
        )}
        {!shown && loaded.state === 'done' && <Content component="p">No budget information.</Content>}
      </CardBody>
    </Card>
  );
}
