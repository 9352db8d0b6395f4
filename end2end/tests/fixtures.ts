import { test as base, expect, BrowserContext, Page } from '@playwright/test';

export { expect };
export type { Page, Browser } from '@playwright/test';

/**
 * Playwright's `test`, with one more check on every test: no page may panic or throw in the
 * browser. A hydration mismatch shows only there (the page looks right and stops reacting), so
 * without this a test fails far from the cause, or not at all.
 */
export const test = base.extend<{ browserErrors: void }>({
  browserErrors: [
    async ({ browser, context }, use, testInfo) => {
      const errors: string[] = [];
      // Everything the pages logged, printed when the test fails.
      const logged: string[] = [];
      const watchPage = (page: Page) => {
        page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
        page.on('console', (message) => {
          logged.push(`${message.type()} ${page.url()}: ${message.text().slice(0, 500)}`);
          if (message.type() === 'error' && /panicked at|RuntimeError/.test(message.text())) {
            errors.push(`${page.url()}: ${message.text().slice(0, 2000)}`);
          }
        });
      };
      const watchContext = (watched: BrowserContext) => {
        watched.pages().forEach(watchPage);
        watched.on('page', watchPage);
      };
      watchContext(context);
      // Tests that play several users open their own contexts.
      const newContext = browser.newContext.bind(browser);
      browser.newContext = async (...args) => {
        const created = await newContext(...args);
        watchContext(created);
        return created;
      };
      try {
        await use();
      } finally {
        browser.newContext = newContext;
      }
      if (testInfo.status !== testInfo.expectedStatus && logged.length > 0) {
        console.log(`Browser console of "${testInfo.title}":\n${logged.join('\n')}`);
      }
      expect(errors, 'errors in the browser').toEqual([]);
    },
    { auto: true },
  ],
});
