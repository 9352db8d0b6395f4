import { test, expect } from './fixtures';
import { hydrated, importBase, signIn } from './helpers';

/** Tomorrow on the demo tenant's calendar (Europe/Paris), `YYYY-MM-DD`. */
const tomorrow = () => new Date(Date.now() + 86_400_000).toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });

test('forms built in the editor are filled at the desk, book an appointment and show in the statistics', async ({ page, browser }) => {
  test.setTimeout(180_000);
  await signIn(page, 'client.admin');
  const stamp = Date.now();
  const baseName = `Forms base ${stamp}`;
  await importBase(page, baseName, 3);

  // A campaign with every form but the tree.
  const campaign = `Forms campaign ${stamp}`;
  await page.goto('/crm/campaigns');
  await hydrated(page);
  const form = page.getByTestId('new-campaign');
  await form.locator('input[name=name]').fill(campaign);
  await form.locator('input[name=product]').fill('Fibre');
  await form.locator('select[name=base]').selectOption({ label: `${baseName} (3)` });
  await form.locator('input[name=starts_on]').fill('2026-01-01');
  await form.locator('input[name=ends_on]').fill('2027-12-31');
  for (const kind of ['multiple_choice', 'yes_no', 'contract', 'appointment']) {
    await form.locator(`input[name=${kind}]`).check();
  }
  await form.locator('button[type=submit]').click();
  const row = page.locator(`tr[data-campaign="${campaign}"]`);
  await expect(row).toBeVisible();

  // The forms editor: a required single-answer question, a yes/no one, a contract field, a result.
  await row.getByTestId('edit-forms').click();
  await hydrated(page);
  await expect(page.locator('h1')).toContainText(campaign);
  await page.getByTestId('add-single').click();
  const q1 = page.locator('[data-testid=question][data-position="1"]');
  await q1.locator('input[name=question_text]').fill('Current provider?');
  await q1.locator('input[name=choice]').nth(0).fill('Orange');
  await q1.locator('input[name=choice]').nth(1).fill('Free');
  await q1.locator('input[name=required]').check();
  await page.getByTestId('add-yes-no').click();
  await page.locator('[data-testid=question][data-position="2"] input[name=question_text]').fill('Do you own your home?');
  await page.getByTestId('add-contract-field').click();
  const field = page.getByTestId('contract-field').first();
  await field.locator('input[name=field_label]').fill('Monthly amount');
  await field.locator('select[name=field_kind]').selectOption({ label: 'Number' });
  await field.locator('input[name=field_required]').check();
  // A choice left empty is named in the refusal.
  await page.getByTestId('add-result').click();
  await page.getByTestId('save-forms').click();
  await expect(page.getByText('Call result 8 — Label: required.')).toBeVisible();
  const sold = page.getByTestId('result-row').nth(7);
  await sold.locator('input[name=result_label]').fill('Sold');
  await sold.locator('input[name=contacted]').check();
  await page.getByTestId('save-forms').click();
  await expect(page.getByTestId('forms-saved')).toBeVisible();
  // Saved for good: a reload shows the questions.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('[data-testid=question][data-position="1"] input[name=question_text]')).toHaveValue('Current provider?');

  // A field sales person to receive the appointments.
  await page.goto('/crm/sales');
  await hydrated(page);
  const newPerson = page.getByTestId('new-sales-person');
  await newPerson.locator('input[name=first_name]').fill('Paul');
  await newPerson.locator('input[name=last_name]').fill(`Girard ${stamp}`);
  await newPerson.locator('input[name=phone]').fill('06 12 34 56 78');
  await newPerson.locator('input[name=area]').fill('Lyon');
  await newPerson.locator('button[type=submit]').click();
  const paul = `Paul Girard ${stamp}`;
  await expect(page.locator(`tr[data-sales-person="${paul}"]`)).toContainText('+33612345678');

  // Chloe works the campaign (the two-agent test uses Alice and Bruno at the same time).
  await page.goto('/crm/campaigns');
  await hydrated(page);
  await page.locator(`tr[data-campaign="${campaign}"]`).getByRole('button', { name: 'Activate' }).click();
  await expect(page.locator(`tr[data-campaign="${campaign}"]`).getByTestId('state')).toHaveText('Active');
  await page.goto('/crm/agents');
  await hydrated(page);
  await page.locator('tr[data-agent="chloe"]').getByRole('button', { name: 'Edit' }).click();
  await page.getByTestId('edit-agent').getByRole('checkbox', { name: campaign }).check();
  await page.getByTestId('edit-agent').locator('button[type=submit]').click();
  await expect(page.locator('tr[data-agent="chloe"]')).toContainText(campaign);

  const agent = await (await browser.newContext()).newPage();
  await signIn(agent, 'chloe');
  await agent.goto('/crm/desk');
  await hydrated(agent);
  await agent.locator(`tr[data-campaign="${campaign}"]`).getByRole('link', { name: 'Open' }).click();
  const card = agent.getByTestId('contact-card');
  await expect(card).toBeVisible();
  const question = (text: string) => agent.getByTestId('desk-question').filter({ hasText: text });

  // First contact: an appointment with Paul tomorrow at 10:00, and a contract.
  let slot = await card.getAttribute('data-slot');
  await question('Current provider?').getByLabel('Free').check();
  await question('Do you own your home?').getByLabel('Yes').check();
  await agent.getByTestId('desk-contract').getByLabel('Monthly amount').fill('39,90');
  await agent.getByRole('radio', { name: 'Appointment booked' }).check();
  const booking = agent.getByTestId('appointment');
  await booking.locator('select[name=sales_person]').selectOption({ label: `${paul} (Lyon)` });
  await booking.locator('input[name=appointment_at]').fill(`${tomorrow()}T10:00`);
  await agent.getByTestId('save-call').click();
  await expect(agent.locator(`[data-testid=contact-card][data-slot="${slot}"]`)).toHaveCount(0);

  // Second contact: "Sold" needs the required question first.
  slot = await card.getAttribute('data-slot');
  await agent.getByRole('radio', { name: 'Sold' }).check();
  await agent.getByTestId('save-call').click();
  await expect(agent.getByTestId('outcome')).toContainText('Question 1 — Answer: required.');
  await question('Current provider?').getByLabel('Orange').check();
  await question('Do you own your home?').getByLabel('No').check();
  await agent.getByTestId('save-call').click();
  await expect(agent.locator(`[data-testid=contact-card][data-slot="${slot}"]`)).toHaveCount(0);

  // Third: nobody answered; nothing to fill.
  await agent.getByRole('radio', { name: 'No answer' }).check();
  await agent.getByTestId('save-call').click();
  await expect(agent.getByTestId('desk-empty')).toBeVisible();
  await agent.context().close();

  // The statistics: each question's answers, the contract, the appointment per sales person.
  await page.goto('/crm/stats');
  await hydrated(page);
  const filter = page.getByTestId('campaign-stats-filter');
  await filter.locator('select[name=campaign]').selectOption({ label: campaign });
  await filter.locator('button[type=submit]').click();
  await expect(page.getByTestId('campaign-summary')).toContainText(campaign);
  await expect(page.locator('[data-kpi="contracts"]')).toHaveText('1');
  const provider = page.getByTestId('question-stats').filter({ hasText: 'Current provider?' });
  await expect(provider.locator('tr[data-answer] td')).toHaveText(['Orange', '1', '50.0 %', 'Free', '1', '50.0 %']);
  const owner = page.getByTestId('question-stats').filter({ hasText: 'Do you own your home?' });
  await expect(owner.locator('tr[data-answer="yes"] [data-kpi="count"]')).toHaveText('1');
  await expect(page.getByTestId('booked').locator(`tr[data-sales-person="${paul}"] [data-kpi="booked"]`)).toHaveText('1');
  await expect(page.locator('[data-testid="chart-questions-chart"][data-drawn="true"]')).toHaveCount(1);
  const href = await page.getByTestId('download-all').getAttribute('href');
  const csv = await (await page.request.get(href!)).text();
  expect(csv).toContain('Current provider?: Free; Do you own your home?: Yes; Monthly amount: 39.90');

  // Paul's agenda shows the appointment tomorrow at 10:00.
  await page.goto('/crm/sales');
  await hydrated(page);
  await page.locator(`tr[data-sales-person="${paul}"]`).getByRole('button', { name: 'Agenda' }).click();
  const day = page.getByTestId('agenda').locator(`[data-day="${tomorrow()}"]`);
  await expect(day.getByTestId('appointment')).toContainText('10:00–11:00');
  await expect(day.getByTestId('appointment')).toContainText(campaign);
  await expect(page.locator(`tr[data-sales-person="${paul}"] [data-testid=upcoming]`)).toHaveText('1');
});
