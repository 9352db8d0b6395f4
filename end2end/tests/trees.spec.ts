import { test, expect, Page } from './fixtures';
import { createTree, hydrated, importBase, signIn } from './helpers';

const card = (page: Page, key: number) => page.locator(`.tree-node[data-node="${key}"]`);
const branch = (page: Page, key: number, answer: 'yes' | 'no' | 'undecided') =>
  card(page, key).locator(`label[data-answer="${answer}"] select`);
const drawing = (page: Page) => page.getByTestId('tree-drawing');
const problems = (page: Page) => page.getByTestId('tree-problems').locator('li');

test('an argument tree is built in the editor, drawn live, checked, saved, then versioned under a running campaign', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, 'client.admin');
  const name = `Sales script ${Date.now()}`;
  await createTree(page, name, 'Do you have internet at home?');
  await expect(page.getByTestId('tree-valid')).toBeVisible();

  // "Yes" opens a new question: it appears in the list and in the drawing at once.
  await branch(page, 1, 'yes').selectOption({ label: '+ New question' });
  await expect(card(page, 2)).toBeVisible();
  await expect(drawing(page)).toHaveAttribute('data-nodes', '2');
  await expect(problems(page).first()).toHaveText('Q2 has no text');
  await card(page, 2).locator('textarea').fill('Would you like a faster line?');
  await expect(drawing(page).locator('[data-node="2"]')).toContainText('Would you like a faster');
  await expect(problems(page).first()).toHaveText('Q2 (Would you like a faster line?): the “Yes” branch leads nowhere');
  for (const answer of ['yes', 'no', 'undecided'] as const) {
    await branch(page, 2, answer).selectOption({ label: 'End of the script' });
  }
  await branch(page, 1, 'no').selectOption({ label: '+ New question' });
  await card(page, 3).locator('textarea').fill('May I tell you about our box?');
  // Two branches may share a node; it is drawn once.
  await branch(page, 1, 'undecided').selectOption({ label: 'Q2 (Would you like a faster line?)' });
  await branch(page, 3, 'yes').selectOption({ label: 'End of the script' });
  await branch(page, 3, 'no').selectOption({ label: 'End of the script' });
  // Back to the start: a loop, named, drawn as a link going back up.
  await branch(page, 3, 'undecided').selectOption({ label: 'Q1 (Do you have internet at home?)' });
  await expect(drawing(page)).toHaveAttribute('data-nodes', '3');
  await expect(drawing(page).locator('g.link.back')).toHaveCount(1);
  const loop = 'Q1 (Do you have internet at home?) can be reached again from itself: a tree must not loop';
  await expect(problems(page)).toHaveText([loop]);
  // The server applies the same check.
  await page.getByTestId('save-tree').click();
  await expect(page.getByTestId('error').last()).toHaveText(loop);
  await branch(page, 3, 'undecided').selectOption({ label: 'End of the script' });
  await expect(page.getByTestId('tree-valid')).toBeVisible();

  // A question nothing leads to is named, and drawn apart until it is deleted.
  await page.getByTestId('add-node').click();
  await card(page, 4).locator('textarea').fill('Orphan');
  for (const answer of ['yes', 'no', 'undecided'] as const) {
    await branch(page, 4, answer).selectOption({ label: 'End of the script' });
  }
  await expect(problems(page)).toHaveText(['Q4 (Orphan) cannot be reached from the start']);
  await expect(drawing(page).locator('g.node.unreachable')).toHaveCount(1);
  await card(page, 4).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('tree-valid')).toBeVisible();
  // Nothing led to it: deleting it leaves no branch to choose again.
  await expect(drawing(page).locator('g.link.loose')).toHaveCount(0);

  await page.getByTestId('save-tree').click();
  await expect(page.getByTestId('tree-saved')).toHaveText('Saved (version 1).');
  await page.reload();
  await hydrated(page);
  await expect(drawing(page)).toHaveAttribute('data-nodes', '3');
  await expect(branch(page, 1, 'undecided')).toHaveValue('n2');
  await expect(drawing(page).locator('g.link.end')).toHaveCount(6);
  const editor = page.url();

  // A campaign runs on it: the next save makes version 2 and keeps version 1.
  const baseName = `Tree base ${Date.now()}`;
  await importBase(page, baseName);
  await page.goto('/crm/campaigns');
  await hydrated(page);
  const form = page.getByTestId('new-campaign');
  const campaign = `Tree campaign ${Date.now()}`;
  await form.locator('input[name=name]').fill(campaign);
  await form.locator('input[name=product]').fill('Fibre');
  await form.locator('select[name=base]').selectOption({ label: `${baseName} (2)` });
  await form.locator('input[name=starts_on]').fill('2026-12-01');
  await form.locator('input[name=ends_on]').fill('2027-01-31');
  await form.locator('input[name=argument_tree]').check();
  await form.locator('select[name=tree]').selectOption({ label: name });
  await form.locator('button[type=submit]').click();
  const row = page.locator(`tr[data-campaign="${campaign}"]`);
  await expect(row).toContainText(`Argument tree (${name})`);
  await row.getByRole('button', { name: 'Activate' }).click();
  await expect(row.getByTestId('state')).toHaveText('Active');

  await page.goto(editor);
  await hydrated(page);
  await expect(page.getByTestId('tree-running')).toContainText(campaign);
  await card(page, 3).locator('textarea').fill('May I tell you about our 2 Gb box?');
  await expect(page.getByText('Unsaved changes.')).toBeVisible();
  await page.getByTestId('save-tree').click();
  await expect(page.getByTestId('tree-saved')).toHaveText('Saved as version 2; version 1 is kept for the answers given on it.');
  await expect(page.getByTestId('tree-version')).toHaveText('version 2');

  // The list tells the version, the size and who uses it; a used tree cannot be deleted.
  await page.goto('/crm/trees');
  await hydrated(page);
  const listed = page.locator(`tr[data-tree="${name}"]`);
  await expect(listed.locator('td')).toHaveText([name, '2', '3', campaign, 'Edit']);
  await expect(listed.getByRole('button', { name: 'Delete' })).toHaveCount(0);
});

test('the tree editor speaks French', async ({ page }) => {
  await signIn(page, 'client.admin');
  await createTree(page, `Script ${Date.now()}`, 'Avez-vous internet ?');
  await page.getByTestId('lang-switch').getByText('FR').click();
  await page.getByTestId('add-node').click();
  await expect(problems(page).first()).toHaveText('Q2 n\'a pas de texte');
  await expect(card(page, 2).locator('label[data-answer="undecided"]')).toContainText('Indécis');
  // The answer letters in the drawing follow the language: O(ui), N(on), I(ndécis).
  await expect(drawing(page).locator('[data-from="1"] text.answer')).toHaveText(['O', 'N', 'I']);
});
