// Shared by the console tests: a console build in a temp folder, the feature
// list serving it, and Debian's chromium driven by playwright-core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.js';
import type { FeatureFactory } from '../src/app-context.js';
import { consoleFrom, createConsole } from '../src/console/index.js';
import { features } from '../src/features.js';
export { until } from './support/wait.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(import.meta.dirname, '..', 'test-results', 'console');

/** Builds the console into a fresh temp folder (so a test never races `npm run build`). */
export async function buildConsoleToTemp(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-build-'));
  await buildConsole(dir);
  return dir;
}

/** The agent's feature list with the console served from `dir`. */
export function featuresServing(dir: string): FeatureFactory[] {
  return features.map((f) => (f === createConsole ? consoleFrom(dir) : f));
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Polls until `fn` is true (real time; for effects outside the page). */
