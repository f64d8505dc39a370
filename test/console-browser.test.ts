// The commissioning console in a real browser (Debian's chromium through
// playwright-core) against a real agent with simulated devices: login,
// device overview, camera presets. Screenshots go to test-results/console/.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runningViscaSimulators } from '../drivers/visca/index.js';
import { TOKENS } from './support/agent.js';
import { SCREENSHOTS, until } from './console-helpers.js';
import { type ConsoleRoom, startConsoleRoom } from './console-room.js';

let room: ConsoleRoom;
beforeAll(async () => {
  room = await startConsoleRoom();
}, 60_000);
afterAll(async () => {
  await room?.stop();
});

describe('commissioning console in chromium: login and devices', () => {
  it('a wrong token shows the login again with the reason, never the room', async () => {
    const page = await room.newPage();
    await room.signIn(page, 'not-a-valid-token');
    await page.waitForSelector('#login-error');
    expect(await page.textContent('#login-error')).toContain('refused this token');
    expect(await page.$('#room')).toBeNull();
    expect(await page.$('[data-device]')).toBeNull();
    expect(await page.evaluate("sessionStorage.getItem('room-agent.token')")).toBeNull();
    await page.screenshot({ path: path.join(SCREENSHOTS, 'login-refused.png') });
    // A refused token saved earlier (e.g. revoked) does not open the room on reload either.
    await page.evaluate("sessionStorage.setItem('room-agent.token', 'revoked-token')");
    await page.reload();
    await page.waitForSelector('#login-error');
    expect(await page.$('#room')).toBeNull();
    await page.close();
  });

  it('signs in, shows the simulated devices online and keeps the token out of the URL', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.operator);
    for (const id of ['cam-1', 'cam-2', 'matrix', 'mixer', 'audio', 'tcs']) {
      await page.waitForSelector(`tr[data-device="${id}"][data-status="online"]`);
    }
    expect(page.url()).not.toContain(TOKENS.operator);
    expect(await page.textContent('#room h1')).toContain('test-room');
    // The same session survives a reload (sessionStorage), still without the token in the URL.
    await page.reload();
    await page.waitForSelector('tr[data-device="cam-1"][data-status="online"]');
    expect(page.url()).not.toContain(TOKENS.operator);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'room-overview.png'), fullPage: true });
    await page.close();
  });

  it('a camera preset button makes the VISCA simulator receive the recall; video shows why it is unavailable', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.operator);
    await page.waitForSelector('tr[data-device="cam-1"][data-status="online"]');
    const sim = runningViscaSimulators.get('cam-1')!;
    const before = sim.presetRecalls().length;
    await page.click('[data-testid="preset-cam-1-4"]');
    await until(() => sim.presetRecalls().slice(before).includes(4), 'cam-1 simulator to receive preset 4');
    // The camera reports the preset back; the button lights up from the live state.
    await page.waitForSelector('[data-testid="preset-cam-1-4"].active');
    const tile = await page.textContent('[data-testid="video-unavailable-cam-1"]');
    expect(tile).toMatch(/^video unavailable: go2rtc binary not found at .*no-go2rtc-here/);
    expect(await page.textContent('[data-testid="video-unavailable-cam-2"]')).toContain('video unavailable');
    await page.locator('#cameras').screenshot({ path: path.join(SCREENSHOTS, 'cameras.png') });
    await page.close();
  });

  it('an action the token may not run shows the refusal with its code', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.viewer);
    await page.waitForSelector('tr[data-device="cam-1"][data-status="online"]');
    await page.click('[data-testid="preset-cam-1-2"]');
    await page.waitForSelector('.notice-error');
    expect(await page.textContent('.notice-error')).toMatch(/needs role operator.*FORBIDDEN 4003/);
    await page.close();
  });

  it('when the agent drops the WebSocket the page reconnects by itself, shows the current state and works again', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.operator);
    await page.waitForSelector('#connection.conn-open');
    await page.waitForSelector('tr[data-device="cam-2"][data-status="online"]');
    // The agent closes every WebSocket (as when it stops); meanwhile cam-2 moves, which the page cannot hear.
    (room.t.agent as unknown as { ws: { closeAll(): void } }).ws.closeAll();
    const sim = runningViscaSimulators.get('cam-2')!;
    const op = await room.t.connect(TOKENS.operator);
    await op.call('device.action', { device: 'cam-2', action: 'preset.recall', params: { preset: 5 } });
    // Back live (fresh snapshot or push, depending on timing): preset 5 shows as current with no click in the page.
    await page.waitForSelector('#connection.conn-open');
    await page.waitForSelector('[data-testid="preset-cam-2-5"].active');
    const before = sim.presetRecalls().length;
    await page.click('[data-testid="preset-cam-2-6"]');
    await until(() => sim.presetRecalls().slice(before).includes(6), 'cam-2 simulator to receive preset 6');
    await page.close();
  });

  it('routes the matrix, cuts the mixer and mutes the audio from the grid, with the devices confirming', async () => {
    const page = await room.newPage();
    await room.signIn(page, TOKENS.operator);
    await page.waitForSelector('tr[data-device="matrix"][data-status="online"]');
    const cell = '[data-matrix="matrix"] button[aria-label="route input 3 to output 1"]';
    await page.waitForSelector(`${cell}[aria-pressed="false"]`);
    await page.click(cell);
    await page.waitForSelector(`${cell}[aria-pressed="true"]`);
    expect(room.t.agent.devices.values('matrix').routes).toMatchObject({ 1: 3 });
    await page.waitForSelector('[data-mixer="mixer"] .inputs li');
    await page.click('[data-mixer="mixer"] .inputs li:nth-child(3) button:has-text("PGM")');
    await page.waitForSelector('[data-mixer="mixer"] .inputs li:nth-child(3).program');
    const mute = page.locator('[data-audio="audio"] li', { hasText: 'mic-mute' }).locator('button');
    const was = await mute.getAttribute('aria-pressed');
    await mute.click();
    await page.waitForSelector(
      `[data-audio="audio"] li:has-text("mic-mute") button[aria-pressed="${was === 'true' ? 'false' : 'true'}"]`,
    );
    await page.locator('#av').screenshot({ path: path.join(SCREENSHOTS, 'routing-audio.png') });
    await page.close();
  });
});
