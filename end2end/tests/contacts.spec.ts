import { test, expect, Page } from './fixtures';
import { hydrated, signIn, callServer } from './helpers';

// A messy export as a French spreadsheet writes it: Windows-1252 accents, semicolons, a
// duplicate (national vs international form), a bad number, a missing number, a short row.
const MESSY = Buffer.from(
  'Pr\xe9nom;Nom;T\xe9l\xe9phone;Ville\r\n' +
    '\xc9lodie;Faure;06 12 34 56 78;Besan\xe7on\r\n' +
    'Jean;Dupont;+33 6 12 34 56 78;Paris\r\n' +
    'Ana;Roux;12 34;Lyon\r\n' +
    'Luc;Petit;;Nice\r\n' +
    'Zo\xe9;Blanc\r\n' +
    'Marc;Noir;0033 7 98 76 54 32;Lille\r\n',
  'latin1',
);

async function upload(page: Page, name: string, buffer: Buffer) {
  await page.goto('/crm/bases/import');
  await hydrated(page);
  await page.getByTestId('upload-form').locator('input[type=file]').setInputFiles({ name, mimeType: 'text/csv', buffer });
  await page.getByTestId('upload-form').locator('button[type=submit]').click();
}

test('a messy CSV is previewed, mapped, imported with its rejects explained, then browsed', async ({ page }) => {
  await signIn(page, 'client.admin');
  await upload(page, 'clients hiver.csv', MESSY);
  const mapping = page.getByTestId('mapping-form');
  await expect(mapping.getByTestId('file-facts')).toContainText('windows-1252');
  await expect(mapping.getByTestId('file-facts')).toContainText('« ; »');
  // Headers are read with their accents and pre-mapped by similarity.
  const preview = mapping.getByTestId('preview');
  await expect(preview.locator('thead th').nth(0)).toContainText('Prénom');
  await expect(preview.locator('select[data-column="0"]')).toHaveValue('first_name');
  await expect(preview.locator('select[data-column="1"]')).toHaveValue('last_name');
  await expect(preview.locator('select[data-column="2"]')).toHaveValue('phone');
  await expect(preview.locator('select[data-column="3"]')).toHaveValue('custom');
  await expect(preview.locator('tbody tr')).toHaveCount(5);
  await expect(preview.locator('tbody tr').first()).toContainText('Besançon');

  const name = `Hiver ${Date.now()}`;
  await mapping.locator('input[name=name]').fill(name);
  await mapping.locator('button[type=submit]').click();
  const progress = page.getByTestId('import-progress');
  await expect(progress.getByTestId('import-done')).toBeVisible();
  await expect(progress.locator('progress')).toHaveAttribute('value', '100');
  await expect(progress.getByTestId('counts')).toHaveText('6 rows read: 2 imported, 4 rejected');

  // The rejects report says which line and why, with the row as read.
  const href = await progress.getByTestId('rejects-report').getAttribute('href');
  const report = await page.request.get(href!);
  expect(report.status()).toBe(200);
  expect(report.headers()['content-type']).toContain('text/csv');
  const csv = await report.text();
  expect(csv).toContain('3,duplicate of line 2,Jean,Dupont,\'+33 6 12 34 56 78,Paris');
  expect(csv).toContain('4,invalid phone number,Ana,Roux,12 34,Lyon');
  expect(csv).toContain('5,no phone number,Luc,Petit,,Nice');
  expect(csv).toContain('6,2 columns where 4 are needed,Zoé,Blanc');

  await progress.getByTestId('open-base').click();
  await hydrated(page);
  await expect(page.locator('h1')).toHaveText(name);
  const rows = page.getByTestId('contacts').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(page.locator('tr[data-phone="+33612345678"]')).toContainText('Élodie');
  await expect(page.locator('tr[data-phone="+33798765432"]')).toContainText('Lille');
  // Search ignores case and accents.
  await page.getByTestId('contact-search').locator('input').fill('ELODIE');
  await page.getByTestId('contact-search').locator('button').click();
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId('matching')).toContainText('1 contacts');

  // Listed with its counts.
  await page.goto('/crm/bases');
  await hydrated(page);
  const listed = page.locator(`[data-testid=bases] tr[data-base="${name}"]`);
  await expect(listed.locator('[data-kpi=contacts]')).toHaveText('2');
  await expect(listed.locator('[data-kpi=rejected]')).toHaveText('4');
});

test('files that are not contact lists get clear messages and leave nothing behind', async ({ page }) => {
  await signIn(page, 'client.admin');
  await upload(page, 'empty.csv', Buffer.alloc(0));
  await expect(page.getByTestId('error')).toHaveText('The file is empty: there is no contact to import.');
  await upload(page, 'photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  await expect(page.getByTestId('error')).toHaveText('This file is neither a CSV file nor an Excel workbook (.xlsx, .xls).');
  await upload(page, 'one-line.csv', Buffer.alloc(5 * 1024 * 1024, 'x'));
  await expect(page.getByTestId('error')).toHaveText('Line 1 is longer than 64 KiB: this does not look like a contact list.');
  // A mapping without a phone column is refused before anything is imported.
  await upload(page, 'names.csv', Buffer.from('nom;prenom\nDupont;Jean\n'));
  const mapping = page.getByTestId('mapping-form');
  await mapping.locator('input[name=name]').fill(`No phone ${Date.now()}`);
  await mapping.locator('button[type=submit]').click();
  await expect(page.getByTestId('error')).toHaveText('Columns: choose exactly one phone column');
  await expect(page.getByTestId('import-progress')).toHaveCount(0);
});

test('an agent can neither open contact bases nor call their server functions', async ({ page }) => {
  await signIn(page, 'agent');
  await page.goto('/crm/bases');
  await expect(page.getByTestId('not-allowed')).toBeVisible();
  const listed = await callServer(page, 'crm/bases/list', {});
  expect(listed.status).toBe(403);
});

test('a base larger than a page is paged through', async ({ page }) => {
  await signIn(page, 'client.admin');
  await page.goto('/crm/bases');
  await hydrated(page);
  await page.locator('tr[data-base="Prospects Île-de-France"] a').first().click();
  await hydrated(page);
  const matching = page.getByTestId('matching');
  await expect(matching).toHaveText('150 contacts — page 1 of 3');
  const pager = page.getByTestId('pager');
  await expect(pager.getByTestId('previous')).toBeDisabled();
  const first = await page.getByTestId('contacts').locator('tbody tr').first().getAttribute('data-phone');
  await pager.getByTestId('next').click();
  await expect(matching).toHaveText('150 contacts — page 2 of 3');
  await expect(page.getByTestId('contacts').locator('tbody tr').first()).not.toHaveAttribute('data-phone', first!);
  await pager.getByTestId('next').click();
  await expect(matching).toHaveText('150 contacts — page 3 of 3');
  await expect(pager.getByTestId('next')).toBeDisabled();
  await pager.getByTestId('previous').click();
  await expect(matching).toHaveText('150 contacts — page 2 of 3');
});
