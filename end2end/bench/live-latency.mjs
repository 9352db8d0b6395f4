// Latency from an AMI event leaving the PBX simulator to the dashboard's DOM showing it.
//
// Opens PAGES live dashboards (one supervisor, one browser), then sends RATE QueuePause
// actions per second for SECONDS to the simulator, each with the send time in its reason
// (`b<ms>`); the simulator turns each into a QueueMemberPause event. Every page watches its
// DOM and records, for each reason that appears, now − send time. Prints p50 / p95 / p99 / max
// over all pages. Only states that reach the screen are measured: the dashboard shows the
// latest state of each member, so a state replaced within the same push is never drawn.
//
// Run through .ci/bench-live, which starts the simulator and a server.
import { chromium } from '@playwright/test';
import net from 'node:net';

const base = process.env.RELAIS_URL ?? 'http://127.0.0.1:3320';
const [amiHost, amiPort] = (process.env.RELAIS_AMI ?? '127.0.0.1:5049').split(':');
const secret = process.env.RELAIS_AMI_SECRET;
const pages = Number(process.env.PAGES ?? 20);
const rate = Number(process.env.RATE ?? 1000);
const seconds = Number(process.env.SECONDS ?? 20);
const members = [['support', 'PJSIP/1001'], ['support', 'PJSIP/1002'], ['support', 'PJSIP/1003'], ['sales', 'PJSIP/1003'], ['sales', 'PJSIP/1004']];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-timer-throttling',
         '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows'],
});
const context = await browser.newContext({ baseURL: base });
const login = await context.request.post('/api/auth/login', {
  headers: { 'content-type': 'application/json' },
  data: JSON.stringify({ login: 'supervisor', password: process.env.RELAIS_DEMO_PASSWORD ?? 'relais-demo' }),
});
if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
const opened = [];
for (let i = 0; i < pages; i++) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`dashboard ${i}:`, error.message));
  page.on('console', (message) => { if (message.type() === 'error') console.error(`dashboard ${i}:`, message.text()); });
  await page.goto('/acd/live');
  await page.waitForSelector('[data-testid=link-state][data-state=live]').catch(async (error) => {
    console.error(`dashboard ${i} did not go live at ${page.url()}:`, (await page.content()).slice(0, 2000));
    throw error;
  });
  await page.waitForSelector('[data-testid=queue-panel]');
  await page.evaluate(() => {
    const seen = new Set();
    window.latencies = [];
    new MutationObserver(() => {
      const now = Date.now();
      for (const cell of document.querySelectorAll('[data-testid=member-state]')) {
        const match = /\(b(\d+)\)/.exec(cell.textContent ?? '');
        if (match && !seen.has(match[1])) {
          seen.add(match[1]);
          window.latencies.push(now - Number(match[1]));
        }
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  opened.push(page);
}

const socket = net.createConnection({ host: amiHost, port: Number(amiPort) });
await new Promise((resolve) => socket.on('connect', resolve));
socket.on('data', () => {});
socket.write(`Action: Login\r\nUsername: relais\r\nSecret: ${secret}\r\nEvents: off\r\n\r\n`);
let sent = 0;
const started = Date.now();
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
    let out = '';
    for (let i = 0; i < due; i++) {
      const [queue, iface] = members[sent % members.length];
      out += `Action: QueuePause\r\nQueue: ${queue}\r\nInterface: ${iface}\r\nPaused: true\r\nReason: b${Date.now()}\r\n\r\n`;
      sent++;
    }
    if (out) socket.write(out);
    if (Date.now() - started >= seconds * 1000) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
await new Promise((resolve) => setTimeout(resolve, 1500));
socket.end();

const all = [];
for (const page of opened) all.push(...(await page.evaluate(() => window.latencies)));
all.sort((a, b) => a - b);
const at = (q) => all[Math.min(all.length - 1, Math.floor(q * all.length))];
console.log(`${sent} events in ${seconds} s (${(sent / seconds).toFixed(0)}/s) to ${pages} dashboards; ${all.length} states drawn`);
console.log(`event -> DOM latency: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${all[all.length - 1]} ms`);
await browser.close();
