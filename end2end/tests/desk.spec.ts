import { test, expect, Page, Browser } from './fixtures';
import { createTree, hydrated, importBase, signIn } from './helpers';

const branch = (page: Page, key: number, answer: string) =>
  page.locator(`.tree-node[data-node="${key}"] label[data-answer="${answer}"] select`);

/** Signs `login` in, in a browser of their own, and opens the campaign's desk. */
async function openDesk(browser: Browser, login: string, campaign: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, login);
  await page.goto('/crm/desk');
  await hydrated(page);
  await page.locator(`tr[data-campaign="${campaign}"]`).getByRole('link', { name: 'Open' }).click();
  await expect(page.getByTestId('contact-card').or(page.getByTestId('desk-empty'))).toBeVisible();
  return page;
}

/** Works contacts until none is left: walks the tree with `walk`, sets `result`, saves. */
async function work(page: Page, walk: (page: Page) => Promise<void>, result: string): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < 12; i++) {
    const card = page.getByTestId('contact-card');
    const empty = page.getByTestId('desk-empty');
    await expect(card.or(empty)).toBeVisible();
    if (await empty.isVisible()) break;
    const slot = await card.getAttribute('data-slot');
    seen.push((await page.getByTestId('contact-name').textContent()) ?? '');
    await walk(page);
    await expect(page.getByTestId('walk-done')).toBeVisible();
    await page.getByRole('radio', { name: result }).check();
    await page.getByTestId('save-call').click();
    await expect(page.locator(`[data-testid=contact-card][data-slot="${slot}"]`)).toHaveCount(0);
  }
  return seen;
}

test('two agents work a campaign at once, never on the same contact, and the statistics follow', async ({ page, browser }) => {
  test.setTimeout(180_000);
  await signIn(page, 'client.admin');
  const stamp = Date.now();
  const baseName = `Desk base ${stamp}`;
  await importBase(page, baseName, 6);

  // The script, built in the editor: Q1 yes → Q2, no → end, undecided → end; Q2 ends.
  const treeName = `Desk script ${stamp}`;
  await createTree(page, treeName, 'Do you have internet at home?');
  await branch(page, 1, 'yes').selectOption({ label: '+ New question' });
  await page.locator('.tree-node[data-node="2"] textarea').fill('Would you like a faster line?');
  for (const answer of ['yes', 'no', 'undecided']) {
    await branch(page, 2, answer).selectOption({ label: 'End of the script' });
  }
  await branch(page, 1, 'no').selectOption({ label: 'End of the script' });
  await branch(page, 1, 'undecided').selectOption({ label: 'End of the script' });
  await page.getByTestId('save-tree').click();
  await expect(page.getByTestId('tree-saved')).toHaveText('Saved (version 1).');

  const campaign = `Desk campaign ${stamp}`;
  await page.goto('/crm/campaigns');
  await hydrated(page);
  const form = page.getByTestId('new-campaign');
  await form.locator('input[name=name]').fill(campaign);
  await form.locator('input[name=product]').fill('Fibre');
  await form.locator('select[name=base]').selectOption({ label: `${baseName} (6)` });
  await form.locator('input[name=starts_on]').fill('2026-01-01');
  await form.locator('input[name=ends_on]').fill('2027-12-31');
  await form.locator('input[name=argument_tree]').check();
  await form.locator('select[name=tree]').selectOption({ label: treeName });
  await form.locator('select[name=pbx]').selectOption({ label: 'main' });
  await form.locator('button[type=submit]').click();
  const row = page.locator(`tr[data-campaign="${campaign}"]`);
  await row.getByRole('button', { name: 'Activate' }).click();
  await expect(row.getByTestId('state')).toHaveText('Active');

  // Alice and Bruno are assigned on the agents page; Alice's calls show a caller number.
  await page.goto('/crm/agents');
  await hydrated(page);
  for (const login of ['alice', 'bruno']) {
    await page.locator(`tr[data-agent="${login}"]`).getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByTestId('edit-agent');
    await edit.locator('input[name=caller_number]').fill('01 70 00 00 01');
    await edit.getByRole('checkbox', { name: campaign }).check();
    await edit.locator('button[type=submit]').click();
    await expect(page.locator(`tr[data-agent="${login}"]`)).toContainText(campaign);
  }
  await expect(page.locator('tr[data-agent="alice"]')).toContainText('+33170000001');

  const alice = await openDesk(browser, 'alice', campaign);
  const bruno = await openDesk(browser, 'bruno', campaign);
  // Both hold a contact at the same time, never the same one.
  const [first, second] = [await alice.getByTestId('contact-name').textContent(), await bruno.getByTestId('contact-name').textContent()];
  expect(first).not.toEqual(second);
  // Click-to-call goes through the PBX: the agent's phone rings first.
  await alice.getByTestId('dial').click();
  await expect(alice.getByTestId('dial-state')).toHaveText('Your phone rings; pick up to be connected to the contact.');

  // Alice walks with the keyboard (Y, Y), Bruno with the buttons (No).
  const [aliceSaw, brunoSaw] = await Promise.all([
    work(alice, async (p) => {
      await p.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await expect(p.getByTestId('current-node')).toContainText('Do you have internet at home?');
      await p.keyboard.press('y');
      await expect(p.getByTestId('current-node')).toContainText('Would you like a faster line?');
      await p.keyboard.press('y');
    }, 'Appointment booked'),
    work(bruno, async (p) => {
      await p.getByTestId('answer-no').click();
    }, 'Not interested'),
  ]);
  expect(aliceSaw.length + brunoSaw.length).toBe(6);
  expect(new Set([...aliceSaw, ...brunoSaw]).size).toBe(6);
  const [a, b] = [aliceSaw.length, brunoSaw.length];

  // The statistics reflect the answers: the funnel, the results and each agent.
  await page.goto('/crm/stats');
  await hydrated(page);
  const filter = page.getByTestId('campaign-stats-filter');
  await filter.locator('select[name=campaign]').selectOption({ label: campaign });
  await filter.locator('button[type=submit]').click();
  await expect(page.getByTestId('campaign-summary')).toContainText(campaign);
  await expect(page.locator('[data-kpi="calls"]').first()).toHaveText('6');
  const q1 = page.getByTestId('funnel').locator('tr[data-node="1"]');
  await expect(q1.locator('td')).toHaveText(['Q1', 'Do you have internet at home?', '6', String(a), String(b), '0', '0']);
  const q2 = page.getByTestId('funnel').locator('tr[data-node="2"]');
  await expect(q2.locator('td')).toHaveText(['Q2', 'Would you like a faster line?', String(a), String(a), '0', '0', '0']);
  await expect(page.getByTestId('results').locator('tr[data-result="appointment"] [data-kpi="calls"]')).toHaveText(String(a));
  await expect(page.getByTestId('results').locator('tr[data-result="not_interested"] [data-kpi="calls"]')).toHaveText(String(b));
  await expect(page.getByTestId('per-agent').locator('tr[data-agent="Alice Martin"] [data-kpi="appointments"]')).toHaveText(String(a));
  await expect(page.locator('[data-testid="chart-funnel-chart"][data-drawn="true"]')).toHaveCount(1);
  // Bruno alone.
  await filter.locator('select[name=agent]').selectOption({ label: 'Bruno Petit' });
  await filter.locator('button[type=submit]').click();
  await expect(q1.locator('[data-kpi="reached"]')).toHaveText(String(b));
  // Every call as CSV: a header and six calls, with the walk.
  const href = await page.getByTestId('download-all').getAttribute('href');
  const csv = await (await page.request.get(href!)).text();
  const lines = csv.trim().split('\r\n');
  expect(lines).toHaveLength(7);
  expect(lines.filter((line) => line.includes('Q1 yes → Q2 yes'))).toHaveLength(a);

  // The agents page counts their calls and appointments and shows the desk sessions.
  await page.goto('/crm/agents');
  await hydrated(page);
  const aliceRow = page.locator('tr[data-agent="alice"]');
  await expect(aliceRow.getByTestId('calls')).not.toHaveText('0');
  await aliceRow.getByRole('button', { name: 'History' }).click();
  await expect(page.getByTestId('agent-history')).toContainText(campaign);
  await alice.context().close();
  await bruno.context().close();
});
