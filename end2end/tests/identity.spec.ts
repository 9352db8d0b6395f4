import { test, expect } from './fixtures';
import { signIn, menu, hydrated, callServer, DEMO_PASSWORD } from './helpers';

const MENUS: Record<string, string[]> = {
  'admin': ['Home', 'Tenants', 'Live queues', 'Queue statistics', 'Call statistics', 'Contact bases', 'Campaigns', 'Argument trees', 'Agents', 'Field sales', 'Campaign statistics', 'SMS campaigns', 'SMS replies', 'Users', 'Queues', 'Modem groups', 'SMS credit', 'My account'],
  'client.admin': ['Home', 'Live queues', 'Queue statistics', 'Call statistics', 'Contact bases', 'Campaigns', 'Argument trees', 'Agents', 'Field sales', 'Campaign statistics', 'SMS campaigns', 'SMS replies', 'Users', 'Queues', 'My account'],
  'supervisor': ['Home', 'Live queues', 'Queue statistics', 'Call statistics', 'Contact bases', 'Campaigns', 'Argument trees', 'Campaign statistics', 'My account'],
  'agent': ['Home', 'Agent desk', 'My account'],
  'dept.head': ['Home', 'My account'],
  'accounting': ['Home', 'My account'],
  'statistics': ['Home', 'Queue statistics', 'Call statistics', 'Campaign statistics', 'My account'],
  'calllog': ['Home', 'My account'],
  'incidents': ['Home', 'My account'],
  'forward': ['Home', 'My account'],
};

for (const [login, expected] of Object.entries(MENUS)) {
  test(`${login} sees exactly the menu of their profile`, async ({ page }) => {
    await signIn(page, login);
    expect(await menu(page)).toEqual(expected);
    await expect(page.getByTestId('user-name')).not.toBeEmpty();
  });
}

test('a wrong password and an unknown login get the same neutral message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  const messages: string[] = [];
  for (const [login, password] of [['agent', 'not the password'], ['nobody.here', DEMO_PASSWORD]]) {
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    const error = page.getByTestId('error');
    await expect(error).toHaveText('Wrong login or password.');
    messages.push((await error.textContent()) ?? '');
    await page.reload();
    await hydrated(page);
  }
  expect(messages[0]).toEqual(messages[1]);
  await expect(page).toHaveURL(/\/login/);
});

test('repeated failures lock an account, existing or not, with a clear message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.fill('input[name=login]', 'ghost.of.e2e');
  await page.fill('input[name=password]', 'guess guess guess');
  for (let attempt = 1; attempt <= 5; attempt++) {
    await page.click('button[type=submit]');
    await expect(page.getByTestId('error')).toHaveText('Wrong login or password.');
  }
  await page.click('button[type=submit]');
  await expect(page.getByTestId('error')).toContainText('Too many failed attempts');
});

test('an agent opening an admin page sees the not-allowed page', async ({ page }) => {
  await signIn(page, 'agent');
  for (const path of ['/admin/users', '/admin/tenants']) {
    await page.goto(path);
    await expect(page.getByTestId('not-allowed')).toBeVisible();
    await expect(page.getByTestId('users')).toHaveCount(0);
  }
  // The server functions behind those pages answer 403 too.
  expect((await callServer(page, 'users/list', { tenant_id: null })).status).toBe(403);
  expect((await callServer(page, 'tenants/list', {})).status).toBe(403);
});

test('a user of tenant A cannot read or change tenant B users, even calling the server directly', async ({ browser }) => {
  const operator = await (await browser.newContext()).newPage();
  await signIn(operator, 'admin');
  const tenants = await callServer(operator, 'tenants/list', {});
  expect(tenants.status).toBe(200);
  const other = tenants.body.find((t: { name: string }) => t.name === 'Other Company');
  const otherUsers = await callServer(operator, 'users/list', { tenant_id: other.id });
  const otherAgent = otherUsers.body.find((u: { login: string }) => u.login === 'other.agent');
  expect(otherAgent).toBeTruthy();

  const page = await (await browser.newContext()).newPage();
  await signIn(page, 'client.admin');
  // Own tenant: allowed, and nothing of the other tenant in it.
  const own = await callServer(page, 'users/list', { tenant_id: null });
  expect(own.status).toBe(200);
  const logins = own.body.map((u: { login: string }) => u.login);
  expect(logins).toContain('client.admin');
  expect(logins).not.toContain('other.admin');
  expect(logins).not.toContain('other.agent');
  // Naming the other tenant is refused.
  expect((await callServer(page, 'users/list', { tenant_id: other.id })).status).toBe(403);
  // Changing the other tenant's user by id is refused and changes nothing.
  const forged = await callServer(page, 'users/update', {
    tenant_id: null,
    user_id: otherAgent.id,
    update: { first_name: 'Hacked', last_name: 'Hacked', profiles: [], active: false },
  });
  expect(forged.status).toBe(404);
  const after = await callServer(operator, 'users/list', { tenant_id: other.id });
  const agentAfter = after.body.find((u: { login: string }) => u.login === 'other.agent');
  expect(agentAfter.first_name).toBe(otherAgent.first_name);
  expect(agentAfter.active).toBe(true);
  // Nor may a client administrator list tenants.
  expect((await callServer(page, 'tenants/list', {})).status).toBe(403);
});

test('logout ends the session on the server, not only in the browser', async ({ page, browser }) => {
  await signIn(page, 'statistics');
  const cookie = (await page.context().cookies()).find((c) => c.name === 'relais_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');
  await page.getByTestId('logout').click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);

  // Replaying the old cookie from elsewhere opens nothing.
  const replay = await browser.newContext();
  await replay.addCookies([{ ...cookie!, expires: -1 }]);
  const replayPage = await replay.newPage();
  const state = await callServer(replayPage, 'auth/session', {});
  expect(state.body).toBe('Expired');
  expect((await callServer(replayPage, 'users/list', { tenant_id: null })).status).toBe(401);
});

test('a tampered session cookie leads back to the login page', async ({ page, context, baseURL }) => {
  await context.addCookies([{ name: 'relais_session', value: 'forged-token-value', url: baseURL! }]);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?expired=1/);
  await expect(page.getByTestId('expired')).toBeVisible();
});

test('an idle session expires', async ({ page }) => {
  const idleUrl = process.env.RELAIS_E2E_IDLE_URL;
  test.skip(!idleUrl, 'the short-idle server is started by .ci/test');
  await page.goto(`${idleUrl}/login`);
  await hydrated(page);
  await page.fill('input[name=login]', 'agent');
  await page.fill('input[name=password]', DEMO_PASSWORD);
  await page.click('button[type=submit]');
  await expect(page.getByTestId('menu')).toBeVisible();
  // Still valid while active...
  await page.waitForTimeout(1_500);
  await page.goto(`${idleUrl}/account`);
  await expect(page.getByTestId('menu')).toBeVisible();
  // ...over after the 3-second idle timeout.
  await page.waitForTimeout(4_000);
  await page.goto(`${idleUrl}/account`);
  await expect(page).toHaveURL(/\/login\?expired=1/);
  await expect(page.getByTestId('expired')).toHaveText('Your session has expired. Please sign in again.');
});

test('the language switch translates the interface and is remembered', async ({ page }) => {
  await signIn(page, 'client.admin');
  await page.getByTestId('lang-switch').getByText('FR').click();
  await expect(page.getByTestId('menu')).toContainText('Accueil');
  await page.reload();
  await hydrated(page);
  expect(await menu(page)).toEqual(['Accueil', 'Supervision', 'Statistiques des groupes', "Statistiques d'appels", 'Bases de contacts', 'Campagnes', 'Arbres argumentaires', 'Agents', 'Commerciaux terrain', 'Statistiques des campagnes', 'Campagnes SMS', 'Réponses SMS', 'Utilisateurs', "Groupes d'appels", 'Mon compte']);
  await page.getByTestId('lang-switch').getByText('EN').click();
  await expect(page.getByTestId('menu')).toContainText('Home');
});

test('a client admin creates a user; bad input gets clear messages and changes nothing', async ({ page, browser }) => {
  await signIn(page, 'client.admin');
  await page.goto('/admin/users');
  await hydrated(page);
  const form = page.getByTestId('new-user');
  const login = `e2e.${Date.now()}`;
  await form.locator('input[name=login]').fill(login);
  await form.locator('input[name=first_name]').fill('Élodie');
  await form.locator('input[name=last_name]').fill("N'Guessan");
  await form.locator('input[name=password]').fill('short');
  await form.getByText('Agent', { exact: true }).click();
  await form.locator('button[type=submit]').click();
  await expect(form.getByTestId('error')).toHaveText('Password: at least 10 characters.');
  await expect(page.getByTestId('users')).not.toContainText(login);

  await form.locator('input[name=password]').fill('a long enough sentence');
  await form.locator('button[type=submit]').click();
  await expect(page.getByTestId('users')).toContainText(login);
  await expect(page.getByTestId('users').locator('tr', { hasText: login })).toContainText('Agent');

  // The same login again is a duplicate.
  await form.locator('input[name=login]').fill(login.toUpperCase());
  await form.locator('input[name=first_name]').fill('Autre');
  await form.locator('input[name=last_name]').fill('Personne');
  await form.locator('input[name=password]').fill('a long enough sentence');
  await form.locator('button[type=submit]').click();
  await expect(form.getByTestId('error')).toHaveText('Login: already taken.');

  // The table's CSV export holds the new user.
  const csv = await page.getByTestId('csv-export').getAttribute('href');
  expect(decodeURIComponent(csv!.split(',').slice(1).join(','))).toContain(login);

  // The new user signs in and gets the agent's menu.
  const newcomer = await (await browser.newContext()).newPage();
  await signIn(newcomer, login, 'a long enough sentence');
  expect(await menu(newcomer)).toEqual(['Home', 'Agent desk', 'My account']);
});

test('changing one\'s password checks the confirmation', async ({ page }) => {
  await signIn(page, 'accounting');
  await page.goto('/account');
  await hydrated(page);
  await page.fill('input[name=current]', DEMO_PASSWORD);
  await page.fill('input[name=new]', 'a new long password');
  await page.fill('input[name=confirmation]', 'a different one!!');
  await page.click('button[type=submit]');
  await expect(page.getByTestId('error')).toHaveText('Confirm the new password: does not match.');
});
