// Polls a condition a test waits for (a device state, a simulator's record),
// failing with what it waited for. Timing is not asserted: the limit only
// bounds a hang.
export async function until(pred: () => boolean, what: string, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
