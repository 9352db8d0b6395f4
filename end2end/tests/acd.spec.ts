import { test, expect, Page } from './fixtures';
import { ami, callServer, hydrated, signIn } from './helpers';

// These tests drive the PBX simulator started by .ci/test without generated traffic: every
// call and state change comes from the test, through AMI, as it would from phones and trunks.
test.describe.configure({ mode: 'serial' });

async function openDashboard(page: Page) {
  await page.goto('/acd/live');
  await hydrated(page);
  await expect(page.getByTestId('link-state')).toHaveAttribute('data-state', 'live');
}

const panel = (page: Page, queue: string) => page.locator(`[data-testid=queue-panel][data-queue="${queue}"]`);
const member = (page: Page, queue: string, iface: string) =>
  panel(page, queue).locator(`tr[data-interface="${iface}"]`);

test('a supervisor sees a new waiting call and an agent state change without reloading', async ({ page }) => {
  await signIn(page, 'supervisor');
  await openDashboard(page);
  await expect(panel(page, 'support').getByTestId('pbx-state')).toHaveText('connected');
  await expect(panel(page, 'support').locator('table.members tbody tr')).toHaveCount(3);
  // Marks this very document: a reload would lose the mark.
  await page.evaluate(() => ((window as any).relaisMark = 'same page'));

  const [call] = await ami([
    { Action: 'Originate', Channel: 'Local/support@incoming/n', Application: 'Wait', Data: '60',
      CallerID: '"<b>Dupont</b> & Fils" <0611223344>', Async: 'true' },
  ]);
  expect(call.Response).toBe('Success');
  const summary = page.locator('[data-testid=waiting-summary] tr[data-queue=support]');
  await expect(summary.getByTestId('calls-waiting')).toHaveText('1');
  const caller = panel(page, 'support').locator('[data-testid=callers] tbody tr');
  await expect(caller).toHaveCount(1);
  // The caller's name is shown as text, never as markup.
  await expect(caller).toContainText('<b>Dupont</b> & Fils (0611223344)');
  await expect(panel(page, 'support').locator('[data-testid=callers] b')).toHaveCount(0);

  const [pause] = await ami([{ Action: 'QueuePause', Queue: 'support', Interface: 'PJSIP/1001', Paused: 'true', Reason: 'lunch' }]);
  expect(pause.Message).toBe('Interface paused successfully');
  await expect(member(page, 'support', 'PJSIP/1001')).toHaveAttribute('data-paused', 'true');
  await expect(member(page, 'support', 'PJSIP/1001').getByTestId('member-state')).toContainText('paused (lunch)');
  expect(await page.evaluate(() => (window as any).relaisMark)).toBe('same page');

  // Resume from the dashboard itself.
  await member(page, 'support', 'PJSIP/1001').locator('[data-action=unpause]').click();
  await expect(member(page, 'support', 'PJSIP/1001')).toHaveAttribute('data-paused', 'false');
});

test('a supervisor removes an agent, sees it leave, and adds it back with a penalty', async ({ page }) => {
  await signIn(page, 'supervisor');
  await openDashboard(page);
  const david = member(page, 'sales', 'PJSIP/1004');
  await expect(david).toBeVisible();
  await david.locator('[data-action=remove]').click();
  await expect(david).toHaveCount(0);

  const add = panel(page, 'sales').getByTestId('add-agent');
  await add.locator('select[name=agent]').selectOption({ label: 'David Roux — PJSIP/1004' });
  await add.locator('input[name=penalty]').fill('2');
  await add.locator('button[type=submit]').click();
  await expect(david).toBeVisible();
  await expect(david.locator('input.penalty')).toHaveValue('2');

  // Listening needs the supervisor's own phone, which the demo gives; the PBX accepts it.
  await david.locator('[data-action=listen]').click();
  await expect(page.getByTestId('error').first()).toBeEmpty();
  // Recording a member who is not on a call is refused with a clear message.
  const response = await callServer(page, 'acd/act', { queue_id: await queueId(page, 'sales'), action: { RecordStart: { interface: 'PJSIP/1004' } } });
  expect(response.status).toBe(422);
});

async function queueId(page: Page, name: string): Promise<number> {
  const admin = await page.context().browser()!.newContext({ baseURL: test.info().project.use.baseURL });
  const adminPage = await admin.newPage();
  await signIn(adminPage, 'client.admin');
  const list = await callServer(adminPage, 'queues/list', { tenant_id: null });
  await admin.close();
  return list.body.queues.find((q: any) => q.settings.name === name).id;
}

test('supervision is limited to the queues one supervises, within one tenant', async ({ page, browser }) => {
  const stamp = Date.now().toString(36);
  // The client administrator makes a queue supervised by a new user, and only by them.
  await signIn(page, 'client.admin');
  const created = await callServer(page, 'users/create', {
    tenant_id: null,
    user: { login: `sv.${stamp}`, first_name: 'Vera', last_name: 'Ip', password: 'a long enough password',
            profiles: [], own_phone: 'PJSIP/2999' },
  });
  expect(created.status).toBe(200);
  const queue = await callServer(page, 'queues/create', {
    tenant_id: null,
    settings: { name: `vip${stamp}`, description: 'VIP', pbx: 'main', strategy: 'ringall', music_class: 'default',
                agent_announce: '', wrapup_secs: 0, ring_timeout_secs: 15, max_wait_secs: 0,
                announce_frequency_secs: 0, periodic_announce_secs: 0, announce_holdtime: 'no',
                announce_position: 'no', service_level_secs: 20, supervisors: [created.body], agents: [] },
  });
  expect(queue.status).toBe(200);
  const list = await callServer(page, 'queues/list', { tenant_id: null });
  const supportId = list.body.queues.find((q: any) => q.settings.name === 'support').id;

  const context = await browser.newContext();
  const vip = await context.newPage();
  await signIn(vip, `sv.${stamp}`, "a long enough password");
  await openDashboard(vip);
  await expect(vip.locator('[data-testid=queue-panel]')).toHaveCount(1);
  await expect(panel(vip, `vip${stamp}`)).toBeVisible();
  // Not configured on the PBX yet: said so, not hidden.
  await expect(panel(vip, `vip${stamp}`)).toContainText('does not report this queue');
  const refused = await callServer(vip, 'acd/act', { queue_id: supportId, action: { Remove: { interface: 'PJSIP/1002' } } });
  expect(refused.status).toBe(403);
  await context.close();

  // An agent has no dashboard at all, and its server functions say so.
  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  await signIn(agent, 'agent');
  await agent.goto('/acd/live');
  await expect(agent.getByTestId('not-allowed')).toBeVisible();
  const denied = await callServer(agent, 'acd/act', { queue_id: supportId, action: { Remove: { interface: 'PJSIP/1002' } } });
  expect(denied.status).toBe(403);
  await agentContext.close();

  // Another tenant's administrator sees none of these queues and cannot reach them.
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signIn(other, 'other.admin');
  await openDashboard(other);
  await expect(other.getByTestId('no-queue')).toBeVisible();
  const foreign = await callServer(other, 'acd/act', { queue_id: supportId, action: { Remove: { interface: 'PJSIP/1002' } } });
  expect(foreign.status).toBe(404);
  await otherContext.close();

  // Deleting the queue removes its SV profile: the new user loses the dashboard.
  const id = list.body.queues.find((q: any) => q.settings.name === `vip${stamp}`).id;
  expect((await callServer(page, 'queues/delete', { tenant_id: null, queue_id: id })).status).toBe(200);
});

test('queues are administered with clear errors for bad input', async ({ page }) => {
  const stamp = Date.now().toString(36);
  await signIn(page, 'client.admin');
  await page.goto('/admin/queues');
  await hydrated(page);
  await expect(page.locator('[data-testid=queues] tr[data-queue=support]')).toBeVisible();
  const form = page.getByTestId('new-queue');
  await form.locator('input[name=name]').fill('bad name');
  await form.locator('button[type=submit]').click();
  await expect(form.getByTestId('error')).toContainText('Queue: contains characters that are not allowed');
  // Queue names are unique on a PBX.
  await form.locator('input[name=name]').fill('support');
  await form.locator('button[type=submit]').click();
  await expect(form.getByTestId('error')).toHaveText('Queue: already taken.');
  // The browser's own checks stop out-of-range numbers; the server checks them too.
  await form.locator('input[name=name]').fill(`q${stamp}`);
  await form.locator('input[name=agent_announce]').fill('../../etc/passwd');
  await form.locator('button[type=submit]').click();
  await expect(form.getByTestId('error')).toContainText('Announcement to the agent: contains characters that are not allowed');
  await form.locator('input[name=agent_announce]').fill('custom/welcome');
  await form.locator('input[name=ring_timeout]').fill('20');
  await form.getByTestId('agents').getByText('Bruno Petit').click();
  await form.locator('button[type=submit]').click();
  const row = page.locator(`[data-testid=queues] tr[data-queue=q${stamp}]`);
  await expect(row).toContainText('Bruno Petit');
  await row.getByText('Edit').click();
  const edit = page.getByTestId('edit-queue');
  await expect(edit.locator('input[name=name]')).toBeDisabled();
  await edit.locator('input[name=description]').fill('Night line');
  await edit.locator('button[type=submit]').click();
  await expect(row).toContainText('Night line');
  page.once('dialog', (dialog) => dialog.accept());
  await row.getByText('Delete').click();
  await expect(row).toHaveCount(0);
});
