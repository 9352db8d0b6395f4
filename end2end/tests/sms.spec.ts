import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, Page, Browser } from './fixtures';
import { callServer, hydrated, signIn } from './helpers';

// The `relais` binary (simulated modems, gateways) and a folder for their files, from .ci/test.
const BIN = process.env.RELAIS_BIN ?? path.resolve(__dirname, '../../target/release/relais');
const WORK = process.env.RELAIS_E2E_WORK ?? os.tmpdir();
const SERVER = process.env.RELAIS_E2E_URL ?? 'http://127.0.0.1:3310';

const DEMO_RACK = 'Baie de démonstration';
const DEMO_CAMPAIGN = 'Soldes de Noël';

/** A mobile number of an allocated French range, unique enough for one run. */
function mobile(): string {
  return `06${'0124578'[Math.floor(Math.random() * 7)]}${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/** Imports `rows` (first name, last name, phone) as a base named `name`. */
async function importContacts(page: Page, name: string, rows: string[][]) {
  await page.goto('/crm/bases/import');
  await hydrated(page);
  const csv = Buffer.from(`prénom;nom;téléphone\n${rows.map((r) => r.join(';')).join('\n')}\n`);
  await page.getByTestId('upload-form').locator('input[type=file]').setInputFiles({ name: 'sms.csv', mimeType: 'text/csv', buffer: csv });
  await page.getByTestId('upload-form').locator('button[type=submit]').click();
  await page.getByTestId('mapping-form').locator('input[name=name]').fill(name);
  await page.getByTestId('mapping-form').locator('button[type=submit]').click();
  await expect(page.getByTestId('import-done')).toBeVisible();
}

/** Accepts the next confirmation dialog the page opens. */
function acceptNextDialog(page: Page) {
  page.once('dialog', (dialog) => dialog.accept());
}

test('an SMS campaign is drafted with its template checked, counted and previewed; opt-outs are kept by hand', async ({ page }) => {
  await signIn(page, 'client.admin');
  const baseName = `SMS draft ${Date.now()}`;
  await importContacts(page, baseName, [
    ['Élodie', 'Faure', mobile()],
    ['Jean', 'Dupont', mobile()],
  ]);

  await page.goto('/sms/campaigns');
  await hydrated(page);
  await expect(page.getByTestId('credit-badge')).toContainText('Credit: €');
  await expect(page.getByTestId('credit')).toContainText('per SMS part');
  const form = page.getByTestId('new-sms-campaign');
  const name = `Offre ${Date.now()}`;
  await form.locator('input[name=name]').fill(name);
  await form.locator('select[name=base]').selectOption({ label: `${baseName} (2)` });

  // A field the base does not have is named, in the preview and when saving; nothing is created.
  const unknown = 'The message uses {prenom}, which is not a field of this contact base.';
  await form.locator('textarea[name=template]').fill('Bonjour {prenom}');
  await expect(form.getByTestId('preview-error')).toHaveText(unknown);
  await form.locator('button[type=submit]').click();
  await expect(form.getByTestId('error').last()).toHaveText(unknown);
  await expect(page.locator(`tr[data-campaign="${name}"]`)).toHaveCount(0);
  await form.locator('textarea[name=template]').fill('Bonjour {first_name');
  await expect(form.getByTestId('preview-error')).toHaveText('Message: has a { without its } (or the reverse); write {{ and }} for the braces themselves');

  // Fields go in at the caret; the parts are counted as the text grows, and previewed.
  await form.locator('textarea[name=template]').fill('Bonjour , à bientôt');
  await form.locator('textarea[name=template]').evaluate((area: HTMLTextAreaElement) => area.setSelectionRange(8, 8));
  await form.getByTestId('insert-fields').locator('button[data-field="{first_name}"]').click();
  await expect(form.locator('textarea[name=template]')).toHaveValue('Bonjour {first_name}, à bientôt');
  await expect(form.getByTestId('sample-text').first()).toHaveText('Bonjour Élodie, à bientôt');
  await expect(form.getByTestId('sample-text').nth(1)).toHaveText('Bonjour Jean, à bientôt');
  await expect(form.getByTestId('template-length')).toContainText('GSM alphabet');
  await expect(form.getByTestId('template-length')).toContainText('· 1 SMS');
  const long = `Bonjour {first_name}, ${'les soldes continuent ! '.repeat(7)}`;
  await form.locator('textarea[name=template]').fill(long);
  await expect(form.getByTestId('template-length')).toContainText('· 2 SMS');
  await form.locator('textarea[name=template]').fill('Bonjour {first_name}, 10 € offerts ✨');
  await expect(form.getByTestId('template-length')).toContainText('Unicode');
  await form.locator('button[type=submit]').click();

  const row = page.locator(`tr[data-campaign="${name}"]`);
  await expect(row.getByTestId('state')).toHaveText('Draft');
  await row.getByTestId('edit').click();
  const edit = page.getByTestId('edit-sms-campaign');
  await expect(edit.locator('textarea[name=template]')).toHaveValue('Bonjour {first_name}, 10 € offerts ✨');
  await edit.locator('input[name=name]').fill(`${name} bis`);
  await edit.locator('button[type=submit]').click();
  const renamed = page.locator(`tr[data-campaign="${name} bis"]`);
  await expect(renamed.getByTestId('state')).toHaveText('Draft');
  acceptNextDialog(page);
  await renamed.getByTestId('delete').click();
  await expect(renamed).toHaveCount(0);

  // The opt-out list, by hand: a national number is stored in E.164; a bad one is refused.
  await page.goto('/sms/replies');
  await hydrated(page);
  const number = mobile();
  const e164 = `+33${number.slice(1)}`;
  const add = page.getByTestId('add-opt-out');
  await add.locator('input[name=number]').fill('12');
  await add.locator('button[type=submit]').click();
  await expect(page.getByTestId('error').last()).toHaveText('Phone: is not in the expected form');
  await add.locator('input[name=number]').fill(number);
  await add.locator('button[type=submit]').click();
  const entry = page.locator(`tr[data-number="${e164}"]`);
  await expect(entry).toContainText('added by hand');
  acceptNextDialog(page);
  await entry.getByTestId('remove').click();
  await expect(entry).toHaveCount(0);

  // Modem groups and credit are the operator's: refused to a client, on the page and the API.
  await page.goto('/admin/modems');
  await hydrated(page);
  await expect(page.getByTestId('not-allowed')).toBeVisible();
  const group = { settings: { mac: '02:00:00:00:00:99', alias: 'Mine', modem_count: 1, parts_per_minute: 10 } };
  expect((await callServer(page, 'sms/groups/create', group)).status).toBe(403);
  expect((await callServer(page, 'sms/credit/top-up', { tenant_id: 1, amount: '1000' })).status).toBe(403);
  expect((await callServer(page, 'sms/credit/tenants', {})).status).toBe(403);
});

test('an agent has no SMS pages', async ({ page }) => {
  await signIn(page, 'agent');
  await page.goto('/sms/campaigns');
  await hydrated(page);
  await expect(page.getByTestId('not-allowed')).toBeVisible();
  expect((await callServer(page, 'sms/campaigns/list', {})).status).toBe(403);
  expect((await callServer(page, 'sms/opt-outs/add', { number: '0612345678' })).status).toBe(403);
  await expect(page.getByTestId('credit-badge')).toHaveCount(0);
});

/** What a simulated network accepted: one line per part. */
interface Received {
  imei: string;
  to: string;
  text: string;
  part: [number, number, number] | null;
}

function readReceived(file: string): Received[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** RFC 4180 rows (quoted cells, CRLF), without the BOM. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const body = text.replace(/^\ufeff/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  return rows;
}

/** A program of ours in the background; its output is kept for the failure report. */
class Program {
  child: ChildProcess;
  output = '';
  constructor(args: string[]) {
    this.child = spawn(BIN, args, { env: { ...process.env, RELAIS_LOG: 'warn' } });
    this.child.stdout?.on('data', (chunk) => (this.output += chunk));
    this.child.stderr?.on('data', (chunk) => (this.output += chunk));
  }
  kill(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/** A rack of simulated modems and the gateway that drives them for one modem group. */
class Rack {
  modems: Program;
  gateway?: Program;
  portsFile: string;
  receivedFile: string;
  constructor(readonly name: string, first: number, readonly token: string) {
    const dir = path.join(WORK, `sms-${name}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    this.portsFile = path.join(dir, 'ports');
    this.receivedFile = path.join(dir, 'received.jsonl');
    this.modems = new Program([
      'sim', 'modem', '--count', '2', '--first', String(first), '--latency-ms', '1000', '--failure-rate', '0',
      '--undelivered-rate', '0', '--report-delay-ms', '500', '--reply-rate', '0',
      '--ports-file', this.portsFile, '--received-file', this.receivedFile,
    ]);
  }
  async startGateway() {
    await expect.poll(() => existsSync(this.portsFile), { timeout: 10_000 }).toBe(true);
    this.gateway = new Program(['gateway', '--server', SERVER, '--token', this.token, '--ports-file', this.portsFile]);
  }
  stop() {
    this.gateway?.kill();
    this.modems.kill();
  }
}

/** Creates a modem group through the admin page and returns its gateway token. */
async function createGroup(admin: Page, alias: string): Promise<string> {
  const form = admin.getByTestId('new-group');
  const mac = Array.from({ length: 6 }, (_, i) => (i === 0 ? 2 : Math.floor(Math.random() * 256)).toString(16).padStart(2, '0')).join(':');
  await form.locator('input[name=mac]').fill(mac);
  await form.locator('input[name=alias]').fill(alias);
  await form.locator('input[name=modem_count]').fill('2');
  await form.locator('input[name=speed]').fill('240');
  await form.locator('button[type=submit]').click();
  const notice = admin.getByTestId('group-token');
  await expect(notice.getByTestId('gateway-command')).toContainText('relais gateway --server');
  const token = (await notice.getByTestId('token').textContent())!.trim();
  await notice.getByRole('button').click();
  await expect(notice).toHaveCount(0);
  const group = admin.locator(`tbody[data-group="${alias}"]`);
  await group.getByTestId('start-stop').click();
  await expect(group.getByTestId('group-state')).toHaveAttribute('data-started', 'true');
  return token;
}

async function signedIn(browser: Browser, login: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, login);
  return page;
}

/** Sets the demo's own SMS traffic aside (its rack stopped, its campaign paused), or back. */
async function demoTraffic(admin: Page, demoClient: Page, running: boolean) {
  await admin.goto('/admin/modems');
  await hydrated(admin);
  const rack = admin.locator(`tbody[data-group="${DEMO_RACK}"]`);
  await expect(rack.getByTestId('group-state')).toHaveAttribute('data-started', /true|false/);
  if ((await rack.getByTestId('group-state').getAttribute('data-started')) !== String(running)) {
    await rack.getByTestId('start-stop').click();
    await expect(rack.getByTestId('group-state')).toHaveAttribute('data-started', String(running));
  }
  await demoClient.goto('/sms/campaigns');
  await hydrated(demoClient);
  const campaign = demoClient.locator(`tr[data-campaign="${DEMO_CAMPAIGN}"]`);
  const button = campaign.getByTestId(running ? 'resume' : 'pause');
  if ((await button.count()) > 0) {
    await button.click();
    await expect(campaign).not.toHaveAttribute('data-state', running ? 'paused' : 'active');
  }
}

test('two gateways send a campaign; one killed midway loses nothing and sends nothing twice', async ({ browser }) => {
  test.setTimeout(300_000);
  const admin = await signedIn(browser, 'admin');
  const demoClient = await signedIn(browser, 'client.admin');
  const client = await signedIn(browser, 'other.admin');
  const racks: Rack[] = [];
  try {
    // Only this test's two racks send, and only this test's campaign.
    await demoTraffic(admin, demoClient, false);
    const stamp = Date.now();
    for (const [letter, first] of [['A', 701], ['B', 801]] as const) {
      const token = await createGroup(admin, `E2E ${letter} ${stamp}`);
      racks.push(new Rack(`E2E ${letter} ${stamp}`, first, token));
    }
    for (const rack of racks) await rack.startGateway();
    for (const rack of racks) {
      const group = admin.locator(`tbody[data-group="${rack.name}"]`);
      await expect(group.getByTestId('group-state')).toHaveAttribute('data-connected', 'true', { timeout: 20_000 });
      await expect(group.getByTestId('modem-count')).toHaveText('2 / 2');
    }
    const [rackA, rackB] = racks;
    const groupA = admin.locator(`tbody[data-group="${rackA.name}"]`);
    await groupA.getByTestId('details').click();
    await expect(groupA.getByTestId('modems').locator('tbody tr')).toHaveCount(2);
    await expect(groupA.getByTestId('sim').first()).toHaveText('Ready');
    await expect(groupA.getByTestId('signal').first()).toContainText('dBm');

    // The operator credits the client's tenant.
    await admin.goto('/admin/credit');
    await hydrated(admin);
    const tenant = admin.locator('tr[data-tenant="Other Company"]');
    const before = Number(await tenant.getByTestId('balance').getAttribute('data-minor'));
    await tenant.getByTestId('set-price').locator('input[name=price]').fill('0,05');
    await tenant.getByTestId('set-price').locator('button').click();
    await expect(tenant.getByTestId('price')).toHaveAttribute('data-minor', '5');
    await tenant.getByTestId('top-up').locator('input[name=amount]').fill('abc');
    await tenant.getByTestId('top-up').locator('button').click();
    await expect(admin.getByTestId('error').first()).toHaveText('Amount: is not an accepted amount (for example 50 or 12.50)');
    await tenant.getByTestId('top-up').locator('input[name=amount]').fill('20');
    await tenant.getByTestId('top-up').locator('button').click();
    await expect(tenant.getByTestId('balance')).toHaveAttribute('data-minor', String(before + 2000));

    // The client sends a long, accented campaign to 24 contacts.
    const firstNames = ['Élodie', 'Zoë', 'Loïc', 'Anaïs', 'Jérôme', 'Maëlle', 'François', 'Inès'];
    const rows = Array.from({ length: 24 }, (_, i) => [firstNames[i % firstNames.length], `Müller ${i}`, mobile()]);
    const baseName = `SMS e2e ${stamp}`;
    await importContacts(client, baseName, rows);
    await client.goto('/sms/campaigns');
    await hydrated(client);
    const form = client.getByTestId('new-sms-campaign');
    const name = `Été ${stamp}`;
    await form.locator('input[name=name]').fill(name);
    await form.locator('select[name=base]').selectOption({ label: `${baseName} (24)` });
    await form
      .locator('textarea[name=template]')
      .fill(
        "Bonjour {first_name} {last_name}, découvrez nos soldes d'été à -30 % : chaussures, vêtements, accessoires… " +
          "Offre valable jusqu'au 31 août dans toutes nos boutiques. Répondez STOP pour ne plus recevoir nos messages.",
      );
    await expect(form.getByTestId('template-length')).toContainText('Unicode');
    await form.locator('button[type=submit]').click();
    const row = client.locator(`tr[data-campaign="${name}"]`);
    await expect(row.getByTestId('state')).toHaveText('Draft');
    acceptNextDialog(client);
    await row.getByTestId('activate').click();
    await expect(client.getByTestId('activation')).toContainText('24 message(s) queued');
    await expect(row).toHaveAttribute('data-state', 'active');
    const campaignId = (await row.getByTestId('open').getAttribute('href'))!.split('/').pop();

    // The operator watches the racks' counters move, then B's gateway dies mid-campaign.
    await admin.goto('/admin/modems');
    await hydrated(admin);
    const groupB = admin.locator(`tbody[data-group="${rackB.name}"]`);
    await expect.poll(async () => Number(await groupB.getByTestId('sent').first().textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
    rackB.gateway!.kill('SIGKILL');
    await expect(groupA.getByTestId('sent').first()).not.toHaveText('0');
    // Silent for a minute, B shows as disconnected; its gateway comes back, takes up what was
    // kept for its modems once their leases ran out, and hands over the reports they kept.
    await expect(groupB.getByTestId('group-state')).toHaveAttribute('data-connected', 'false', { timeout: 90_000 });
    await rackB.startGateway();
    await expect(groupB.getByTestId('group-state')).toHaveAttribute('data-connected', 'true', { timeout: 30_000 });

    await client.goto(`/sms/campaigns/${campaignId}`);
    await hydrated(client);
    await expect(client.getByTestId('state')).toHaveAttribute('data-state', 'finished', { timeout: 150_000 });

    // The report, message by message, against what the two simulated networks received.
    const csv = await client.request.get(`/api/sms/campaigns/messages.csv?campaign_id=${campaignId}&lang=en`);
    expect(csv.status()).toBe(200);
    const [header, ...messages] = parseCsv(await csv.text());
    expect(header).toEqual(['Phone', 'Name', 'Message', 'Parts', 'State', 'Reason', 'IMEI', 'Last change']);
    expect(messages).toHaveLength(24);
    const received = racks.flatMap((rack) => readReceived(rack.receivedFile));
    // Cells starting with + are written '+… so that spreadsheets do not take them for formulas.
    for (const message of messages) message[0] = message[0].replace(/^'/, '');
    const ours = new Set(messages.map((m) => m[0]));
    const partsOf = new Map<string, Received[]>();
    for (const part of received.filter((r) => ours.has(r.to))) {
      partsOf.set(part.to, [...(partsOf.get(part.to) ?? []), part]);
    }
    let unknown = 0;
    for (const [phone, contactName, text, parts, state, , imei] of messages) {
      const got = (partsOf.get(phone) ?? []).sort((a, b) => (a.part?.[2] ?? 1) - (b.part?.[2] ?? 1));
      const sequences = got.map((p) => p.part?.[2] ?? 1);
      expect(new Set(sequences).size, `no part of ${contactName}'s message went out twice`).toBe(sequences.length);
      expect(got.every((p) => p.imei === imei), `every part of ${contactName}'s message left from ${imei}`).toBe(true);
      expect(text).toContain(contactName.split(' ')[0]);
      if (state === 'Unknown (gateway lost mid-send)') {
        unknown += 1;
        expect(got.length).toBeGreaterThanOrEqual(Number(parts) - 1);
        expect(got.length).toBeLessThanOrEqual(Number(parts));
      } else {
        expect(['Sent', 'Delivered']).toContain(state);
        expect(got.map((p) => p.text).join(''), `${contactName}'s message arrived whole`).toBe(text);
        expect(got).toHaveLength(Number(parts));
      }
    }
    expect(unknown, 'at most the part in flight on each of the killed gateway modems').toBeLessThanOrEqual(2);
  } finally {
    for (const rack of racks) rack.stop();
    for (const rack of racks) {
      const group = admin.locator(`tbody[data-group="${rack.name}"]`);
      if ((await group.getByTestId('group-state').getAttribute('data-started').catch(() => null)) === 'true') {
        await group.getByTestId('start-stop').click();
      }
    }
    await demoTraffic(admin, demoClient, true);
  }
});
