// SPDX-License-Identifier: MIT
// Headless Debian chromium driven by playwright-core for the dashboard tests; screenshots go to
// BUILD_DIR/screenshots for a person to look at.
import fs from 'node:fs';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { BUILD, GIVE_UP_MS } from './harness.mjs';

export const SHOTS = path.join(BUILD, 'screenshots');
export const SECTIONS = ['overview', 'cells', 'trends', 'can', 'alerts', 'settings', 'system'];
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

// A browser context with a fresh profile (user data dir) in dir; close() it when done.
export async function launch(dir) {
  const profile = fs.mkdtempSync(path.join(dir, 'chromium-profile-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: DESKTOP,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
}

// A page that records console errors and uncaught exceptions; its waits give up after
// GIVE_UP_MS (a limit for a busy machine, never a measurement).
export async function openPage(browser, url, viewport = DESKTOP) {
  const page = await browser.newPage();
  page.setDefaultTimeout(GIVE_UP_MS);
  await page.setViewportSize(viewport);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`exception: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') page.errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  return page;
}

export async function section(page, name) {
  await page.click(`nav.tabs a[data-section="${name}"]`);
  await page.waitForSelector(`#${name}:not([hidden])`);
}

// The whole page; the sticky bar is let go for the picture so it shows once, at the top.
export async function shot(page, name) {
  const style = await page.addStyleTag({ content: '.bar { position: static !important; }' });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  await style.evaluate((n) => n.remove());
}
