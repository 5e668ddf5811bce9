// SPDX-License-Identifier: MIT
// The dashboard in a real browser against the running daemon: it loads, asks for the token,
// shows and acknowledges an alert, puts the server's refusal of a setting at the field, and
// every section is photographed at desktop and phone sizes.
// usage: node dashboard.test.mjs BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { DESKTOP, PHONE, SECTIONS, launch, openPage, section, shot } from './browser.mjs';
import { Daemon } from './harness.mjs';

describe('dashboard without a battery', () => {
  const d = new Daemon({ extra: 'alarms = { debounce_ms = 200; };\n' });
  let browser;
  before(async () => {
    await d.start();
    browser = await launch(d.dir);
  });
  after(async () => {
    if (browser) await browser.close();
    await d.stop();
    d.cleanup();
  });

  it('loads, connects and says that no BMS delivers data', async () => {
    const page = await openPage(browser, d.base + '/');
    await page.waitForSelector('#conn[data-state="stale"], #conn[data-state="live"]', { timeout: 10000 });
    await page.waitForFunction(() => document.getElementById('ov-state').textContent === 'offline');
    assert.match(await page.textContent('#ov-banner'), /No TinyBMS delivers data/);
    assert.match(await page.textContent('#age'), /no data/);
    assert.equal(await page.evaluate(() => typeof window.Chart), 'function', 'Chart.js is served');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('shows an alert and acknowledges it after asking for the token', async () => {
    const page = await openPage(browser, d.base + '/#alerts');
    const row = page.locator('#alerts-active tr', { hasText: "No fresh data from string 1 'house'" });
    await row.waitFor({ timeout: 10000 });
    assert.equal(await page.textContent('#alert-count'), '1');
    await row.locator('button.ack').click();
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', d.token);
    await page.click('#token-ok');
    await row.locator('text=acknowledged').waitFor({ timeout: 5000 });
    const r = await d.req('GET', '/api/alerts/active');
    assert.equal(r.json[0].acknowledged, true);
    // the first try without the token is the one 401 the browser reports
    assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
    await page.close();
  });

  it('shows the server\'s message at a refused setting', async () => {
    const page = await openPage(browser, d.base + '/#settings');
    await page.evaluate((t) => localStorage.setItem('bmsgw-token', t), d.token);
    await page.reload();
    await page.click('details[data-group="bms"] > summary');
    await page.fill('[data-path="bms.poll_interval_ms"]', '50');
    await page.click('#config-save');
    const msg = page.locator('.field[data-key="bms.poll_interval_ms"] .msg');
    await msg.filter({ hasText: 'must be 100..5000 ms (got 50)' }).waitFor({ timeout: 5000 });
    assert.match(await page.textContent('#settings-banner'), /refused/);
    const cfg = (await d.req('GET', '/api/config')).json;
    assert.equal(cfg.bms.poll_interval_ms, 250, 'the refused value was not applied');
    // a good value is saved and the form says so
    await page.fill('[data-path="bms.poll_interval_ms"]', '300');
    await page.click('#config-save');
    await page.locator('#settings-banner', { hasText: 'Saved' }).waitFor({ timeout: 5000 });
    assert.equal((await d.req('GET', '/api/config')).json.bms.poll_interval_ms, 300);
    await page.close();
  });

  it('photographs every section on a desktop and a phone', async () => {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const page = await openPage(browser, d.base + '/', viewport);
      await page.waitForSelector('#conn[data-state="stale"], #conn[data-state="live"]');
      for (const name of SECTIONS) {
        await section(page, name);
        await page.waitForTimeout(300); // let the section fetch and draw
        await shot(page, `nobattery-${name}-${size}`);
        // nothing may stick out sideways on a phone
        const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
        assert.equal(wide, false, `${name} is wider than the ${size} screen`);
      }
      assert.deepEqual(page.errors.filter((e) => !/status of 503/.test(e)), []);
      await page.close();
    }
  });
});
