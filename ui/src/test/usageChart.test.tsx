/**
 * The real PatternFly (Victory) chart on the Overview, once: its lines and legend, and axe-core's
 * rules over the advice, the range toggle and a chart (a11y.test.tsx checks the rest of the page). Slow in jsdom (the lazy chunk loads, six charts draw), hence the time.
 */
import axe from 'axe-core';
import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderBilling } from './render';

const SLOW = 60000;

describe('the usage chart', () => {
  it(
    'draws used, limit and forecast with a legend and names itself for screen readers',
    async () => {
      await renderBilling({ history: true, advice: 'addon' });
      const memory = await screen.findByTestId('usage-chart-Memory', {}, { timeout: SLOW });
      const svg = within(memory).getByRole('img', { name: 'Memory over the last 30 days' });
      expect(svg.querySelector('desc')).toHaveTextContent('70.4 Gi of 90.3 Gi now; Runs out around Dec 12, 2026');
      const styles = [...svg.querySelectorAll('path')].map((p) => p.getAttribute('style') ?? '');
      for (const colour of ['brand--default', 'danger--default', 'orange--50']) {
        expect(styles.some((s) => s.includes(colour))).toBe(true);
      }
      for (const name of ['Used', 'Limit', 'Forecast']) expect(within(memory).getByText(name)).toBeInTheDocument();
      const pods = await screen.findByTestId('usage-chart-Pods', {}, { timeout: SLOW });
      expect(within(pods).queryByText('Forecast')).not.toBeInTheDocument();

      await screen.findByTestId('advice-addon');
      // the advice, the range toggle and one chart (axe takes seconds a chart in jsdom)
      const parts = ['[data-testid="plan-advice"]', '[data-testid="usage-history"] .pf-v6-c-card__header', '[data-testid="history-memory"]'];
      const result = await axe.run({ include: parts.map((p) => [p]) }, { rules: { 'color-contrast': { enabled: false }, region: { enabled: false } } });
      expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    },
    SLOW * 2,
  );
});
