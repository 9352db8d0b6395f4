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
