import { test, expect } from './fixtures';
import { createTree, hydrated, importBase, signIn } from './helpers';

test('a campaign is created on a base, checked, activated, closed, and keeps its base', async ({ page }) => {
  await signIn(page, 'client.admin');
  const baseName = `Prospects ${Date.now()}`;
  await importBase(page, baseName);
  const treeName = `Script ${Date.now()}`;
  await createTree(page, treeName, 'Do you have internet at home?');

  await page.goto('/crm/campaigns');
  await hydrated(page);
  const form = page.getByTestId('new-campaign');
  const name = `Winter ${Date.now()}`;
  await form.locator('input[name=name]').fill(name);
  await form.locator('input[name=product]').fill('Fibre 1 Gb');
  await form.locator('select[name=base]').selectOption({ label: `${baseName} (2)` });
  await form.locator('input[name=starts_on]').fill('2026-12-01');
  await form.locator('input[name=ends_on]').fill('2026-11-01');
  await form.locator('input[name=yes_no]').check();
  await form.locator('input[name=argument_tree]').check();
  await form.locator('select[name=tree]').selectOption({ label: treeName });
  await form.locator('button[type=submit]').click();
  // The end before the start is refused with the field named; nothing is created.
  await expect(page.getByTestId('error').last()).toHaveText('End date: is before the start date');
  await expect(page.locator(`tr[data-campaign="${name}"]`)).toHaveCount(0);

  await form.locator('input[name=ends_on]').fill('2027-02-28');
  await form.locator('button[type=submit]').click();
  const row = page.locator(`tr[data-campaign="${name}"]`);
  await expect(row.getByTestId('state')).toHaveText('Draft');
  await expect(row).toContainText(baseName);
  await expect(row).toContainText(`Yes/no question, Argument tree (${treeName})`);
  await expect(row).toContainText('2026-12-01 → 2027-02-28');

  await row.getByRole('button', { name: 'Activate' }).click();
  await expect(row.getByTestId('state')).toHaveText('Active');
  await row.getByRole('button', { name: 'Close' }).click();
  await expect(row.getByTestId('state')).toHaveText('Closed');

  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByTestId('edit-campaign');
  await edit.locator('input[name=product]').fill('Fibre 2 Gb');
  await edit.locator('button[type=submit]').click();
  await expect(row).toContainText('Fibre 2 Gb');

  // The base a campaign uses cannot be deleted.
  await page.goto('/crm/bases');
  await hydrated(page);
  page.once('dialog', (dialog) => dialog.accept());
  await page.locator(`tr[data-base="${baseName}"]`).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('error').first()).toHaveText('Contact base: is used by a campaign');
  await expect(page.locator(`tr[data-base="${baseName}"]`)).toHaveCount(1);
});
