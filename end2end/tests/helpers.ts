import { expect, Page } from '@playwright/test';

export const DEMO_PASSWORD = process.env.RELAIS_DEMO_PASSWORD ?? 'relais-demo';

/** Waits until the server-rendered page has hydrated and reacts to clicks. */
export async function hydrated(page: Page) {
  await page.waitForSelector('body[data-hydrated]');
}

export async function signIn(page: Page, login: string, password = DEMO_PASSWORD) {
  await page.goto('/login');
  await hydrated(page);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await expect(page).not.toHaveURL(/\/login/);
  await hydrated(page);
}

export async function menu(page: Page): Promise<string[]> {
  const items = page.locator('[data-testid=menu] a');
  await expect(items.first()).toBeVisible();
  return (await items.allTextContents()).map((s) => s.trim());
}

/** Calls a server function the way the browser does, with the page's cookies. */
export async function callServer(page: Page, endpoint: string, body: unknown) {
  const response = await page.request.post(`/api/${endpoint}`, {
    headers: { 'content-type': 'application/json' },
    data: JSON.stringify(body),
  });
  return { status: response.status(), body: await response.json().catch(() => null) };
}

/**
 * Sends actions to the PBX simulator over AMI, as another program on the PBX would (a phone
 * pausing itself, a call arriving), and returns each action's response.
 */
export async function ami(actions: Record<string, string>[]): Promise<Record<string, string>[]> {
  const net = await import('node:net');
  const [host, port] = (process.env.RELAIS_E2E_AMI ?? '127.0.0.1:5039').split(':');
  const secret = process.env.RELAIS_E2E_AMI_SECRET ?? 'e2e-secret';
  const all = [{ Action: 'Login', Username: 'relais', Secret: secret, Events: 'off' }, ...actions];
  return await new Promise((resolve, reject) => {
    const socket = net.createConnection({ host, port: Number(port) });
    let buffer = '';
    const responses: Record<string, string>[] = [];
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('connect', () => {
      all.forEach((action, i) => {
        const lines = Object.entries({ ...action, ActionID: `e2e-${i}` }).map(([k, v]) => `${k}: ${v}`);
        socket.write(lines.join('\r\n') + '\r\n\r\n');
      });
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        const message: Record<string, string> = {};
        for (const line of block.split('\r\n')) {
          const colon = line.indexOf(': ');
          if (colon > 0) message[line.slice(0, colon)] = line.slice(colon + 2);
        }
        if (message.Response && message.ActionID?.startsWith('e2e-')) responses.push(message);
        if (responses.length === all.length) {
          socket.end();
          resolve(responses.slice(1));
        }
      }
    });
  });
}

/** Imports a base of `count` new contacts named `name` through the import page. */
export async function importBase(page: Page, name: string, count = 2) {
  await page.goto('/crm/bases/import');
  await hydrated(page);
  // Numbers of its own: other bases' numbers would be rejected as duplicates across bases.
  // 06 then a digit of an allocated mobile range (libphonenumber refuses 063 9…), then 7 digits.
  const phone = () => `06${'0124578'[Math.floor(Math.random() * 7)]}${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
  const rows = Array.from({ length: count }, (_, i) => `Client ${i + 1};${phone()}`);
  const csv = Buffer.from(`nom;telephone\n${rows.join('\n')}\n`);
  await page.getByTestId('upload-form').locator('input[type=file]').setInputFiles({ name: 'base.csv', mimeType: 'text/csv', buffer: csv });
  await page.getByTestId('upload-form').locator('button[type=submit]').click();
  await page.getByTestId('mapping-form').locator('input[name=name]').fill(name);
  await page.getByTestId('mapping-form').locator('button[type=submit]').click();
  await expect(page.getByTestId('import-done')).toBeVisible();
}

/** Creates a tree from the list page and waits for its editor. */
export async function createTree(page: Page, name: string, firstQuestion: string) {
  await page.goto('/crm/trees');
  await hydrated(page);
  const form = page.getByTestId('new-tree');
  await form.locator('input[name=name]').fill(name);
  await form.locator('textarea[name=first_question]').fill(firstQuestion);
  await form.locator('button[type=submit]').click();
  await expect(page).toHaveURL(/\/crm\/trees\/\d+$/);
  await expect(page.getByTestId('tree-drawing')).toHaveAttribute('data-nodes', '1');
}
