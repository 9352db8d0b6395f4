import { defineConfig } from '@playwright/test';

// The servers are started by .ci/test: RELAIS_E2E_URL (SQLite, demo data) and
// RELAIS_E2E_IDLE_URL (PostgreSQL, demo data, 3-second idle timeout).
export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  workers: 2,
  reporter: [['list']],
  use: {
    baseURL: process.env.RELAIS_E2E_URL ?? 'http://127.0.0.1:3310',
    locale: 'en-GB',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
});
