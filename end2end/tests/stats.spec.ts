import { test, expect } from './fixtures';
import { hydrated, signIn } from './helpers';

// .ci/test starts the simulator's queue_log with the lines captured from a real Asterisk on
// 2026-11-22 (the demo tenant's queues have the same names). Browser tests only add calls to
// "support", so "sales" keeps the capture's totals, counted by hand: 4 offered, 4 answered.
test('queue statistics for the captured queue_log match the known totals', async ({ page }) => {
  await signIn(page, 'statistics');
  await page.goto('/acd/stats');
  await hydrated(page);
  const filter = page.getByTestId('stats-filter');
  await filter.locator('select[name=period]').selectOption('dates');
  await filter.locator('input[name=from]').fill('2026-11-22');
  await filter.locator('input[name=to]').fill('2026-11-22');
  // The queue list comes with the first report.
  await filter.getByTestId('queues').getByLabel('sales').check();
  await filter.locator('button[type=submit]').click();
  await expect(page.getByTestId('stats-period')).toContainText('2026-11-22 → 2026-11-22 (Europe/Paris)');
  const sales = page.locator('[data-testid=outcomes] tr[data-queue=sales]');
  await expect(sales.locator('[data-kpi=offered]')).toHaveText('4');
  await expect(sales.locator('[data-kpi=answered]')).toHaveText('4 (100.0 %)');
  await expect(page.locator('[data-testid=outcomes] tr[data-queue=support]')).toHaveCount(0);
  await expect(page.locator('[data-testid=service-level] [data-kpi=level]')).toHaveText('100.0 %');
  // Sunday, 07:00–07:30 in Paris: labelled by the bucket, zeros elsewhere.
  await expect(page.locator('[data-testid=weekdays] tr[data-slot="7"] td').nth(1)).toHaveText('4');
  await expect(page.locator('[data-testid=weekdays] tr[data-slot="1"] td').nth(1)).toHaveText('0');
  await expect(page.locator('[data-testid=half-hours] tr[data-slot="14"] td').nth(1)).toHaveText('4');
  const david = page.locator('[data-testid=agents] tr[data-agent="David Roux"]');
  await expect(david.locator('[data-kpi=calls_in]')).toHaveText('4');
  await expect(david.locator('[data-kpi=talk]')).toHaveText('0:00:23');
  // Each table has its chart, drawn by ECharts served by Relais itself.
  for (const id of ['outcomes-chart', 'service-level-chart', 'abandon-chart', 'weekdays-chart', 'half-hours-chart', 'agents-chart']) {
    await expect(page.locator(`#${id}`)).toHaveAttribute('data-drawn', 'true');
    await expect(page.locator(`#${id} canvas`)).toHaveCount(1);
    expect((await page.locator(`#${id} canvas`).boundingBox())!.height).toBeGreaterThan(200);
  }
  // And its CSV export.
  const csv = page.locator('[data-testid=outcomes] [data-testid=csv-export]');
  const href = decodeURIComponent((await csv.getAttribute('href')) ?? '');
  expect(href).toContain('sales,4,4,0,0,0,0');
});

test('an agent cannot read queue statistics, page or server function', async ({ page, browser }) => {
  await signIn(page, 'agent');
  await page.goto('/acd/stats');
  await expect(page.getByTestId('not-allowed')).toBeVisible();
  const denied = await page.request.post('/api/acd/stats', {
    headers: { 'content-type': 'application/json' },
    data: JSON.stringify({ filter: { period: 'Today', queues: [], agents: [] } }),
  });
  expect(denied.status()).toBe(403);
});
