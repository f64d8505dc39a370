// The console in chromium: a scenario run's live progress, today's calendar
// and a tracked meeting with its timer ticking. Screenshots go to
// test-results/console/.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningViscaSimulators } from '../drivers/visca/index.js';
import { TOKENS } from './support/agent.js';
import { SCREENSHOTS } from './console-helpers.js';
import { type ConsoleRoom, startConsoleRoom } from './console-room.js';

let room: ConsoleRoom;
beforeAll(async () => {
  room = await startConsoleRoom();
}, 60_000);
afterAll(async () => {
  await room?.stop();
});

describe('commissioning console in chromium: scenarios, calendar and meeting', () => {
  it('runs a scenario and shows its steps progressing to the end', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.operator);
    await page.waitForSelector('[data-testid="run-walk"]');
    await page.click('[data-testid="run-walk"]');
    const run = page.locator('[data-run-scenario="walk"]').first();
    // Mid-run: the first step done, the wait running.
    await run.locator('[data-step-status="ok"]').first().waitFor();
    await page.waitForSelector('[data-run-scenario="walk"][data-outcome="running"] [data-step-status="running"]');
    await page.locator('#scenarios').screenshot({ path: path.join(SCREENSHOTS, 'scenario-running.png') });
    await page.waitForSelector('[data-run-scenario="walk"][data-outcome="succeeded"]');
    expect(await run.locator('[data-step-status="ok"]').count()).toBe(3);
    expect(runningViscaSimulators.get('cam-2')!.presetRecalls()).toContain(1);
    // Run it again and cancel it from the page while it holds.
    await page.click('[data-testid="run-walk"]');
    await page.waitForSelector('[data-run-scenario="walk"][data-outcome="running"]');
    await page.click('[data-testid="cancel-walk"]:not([disabled])');
    await page.waitForSelector('[data-run-scenario="walk"][data-outcome="cancelled"]');
    expect(await page.locator('[data-run-scenario="walk"][data-outcome="succeeded"]').count()).toBe(1);
    await page.close();
  });

  it("shows a tracked meeting's participants and its timer ticking live", async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.viewer);
    await page.waitForSelector('tr[data-device="cam-1"]');
    const now = Date.now();
    const events = [
      { event: 'conf.create.succ', id: 'conf-1', begin_time: now - 65_000, user_data: { meeting: 'M-42' } },
      { event: 'conf.joined', id: 'conf-1', call_id: 'c1', part_uri: 'alice@example.com', join_time: now - 60_000 },
      { event: 'conf.joined', id: 'conf-1', call_id: 'c2', part_uri: 'bob@example.com', join_time: now - 60_000 },
    ];
    const res = await fetch(`${room.t.url}/hooks/conference`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.ingest}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(200);
    await page.waitForSelector('[data-meeting="M-42"] #meeting-timer[data-running="true"]');
    await page.waitForSelector('[data-participant]');
    expect(await page.locator('[data-participant]').count()).toBe(2);
    const first = await page.textContent('#meeting-timer');
    // The clock ticks in the page between pushes (no new event is sent).
    // (Polled from here: the page's CSP forbids the string evaluation waitForFunction would need.)
    let second = first;
    const end = Date.now() + 10_000; // a hang's bound: the page ticks every second
    while (second === first && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      second = await page.textContent('#meeting-timer');
    }
    const secs = (s: string | null) => (s ?? '').split(':').reduce((n, p) => n * 60 + Number(p), 0);
    expect(secs(second)).toBeGreaterThan(secs(first));
    expect(secs(first)).toBeGreaterThanOrEqual(60); // both joined 60 s before the post
    // A connected participant's total grows with the clock too (joined 60 s before the post).
    expect(secs(await page.textContent('[data-participant] td.num'))).toBeGreaterThan(60);
    expect(await page.textContent('[data-meeting="M-42"] .events')).toContain('conf.joined');
    // Today's calendar from the simulated TrueConf Server, times in the room's zone.
    await page.waitForSelector('ul.calendar li .when');
    expect(await page.locator('ul.calendar li .when').count()).toBeGreaterThan(1);
    expect(await page.textContent('#meeting')).not.toContain('console-test-secret');
    await page.locator('#meeting').screenshot({ path: path.join(SCREENSHOTS, 'meeting-timer.png') });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'room-full.png'), fullPage: true });
    await page.close();
  });

  it('switches the director and shows the mode and the decision that explains it', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.operator);
    await page.waitForSelector('#director [data-badge="off"]');
    await page.click('[data-testid="director-paused"]');
    await page.waitForSelector('#director [data-badge="paused"]');
    await page.waitForSelector('[data-testid="director-paused"].active');
    const status = await (await room.t.connect(TOKENS.viewer)).call<{ mode: string }>('director.status');
    expect(status.mode).toBe('paused');
    await page.waitForSelector('#director .decisions li em');
    expect(await page.textContent('#director .decisions')).toContain('mode');
    await page.locator('#director').screenshot({ path: path.join(SCREENSHOTS, 'director.png') });
    await page.click('[data-testid="director-off"]');
    await page.waitForSelector('#director [data-badge="off"]');
    await page.close();
  });
});
