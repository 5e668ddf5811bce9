// SPDX-License-Identifier: MIT
// The dashboard in a real browser against the running daemon: it loads, asks for the token,
// shows and acknowledges an alert, puts the server's refusal of a setting at the field, and
// every section is photographed at desktop and phone sizes. Waits give up after GIVE_UP_MS.
// With the simulated TinyBMS: it shows the simulator's SOC and one bar per cell, follows a change
// live, raises an alert for a cell the simulator pushes over its cutoff, and shows the limits'
// reasons, the temperature source and a TinyBMS setting refused as less safe than the configuration.
// usage: node dashboard.test.mjs BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { DESKTOP, PHONE, SECTIONS, launch, openPage, section, shot } from './browser.mjs';
import { Daemon, GIVE_UP_MS, Simulator, waitFor } from './harness.mjs';

// A daemon and a browser for the tests of one describe block (started before, stopped after).
function daemonWithBrowser(opts) {
  const d = new Daemon(opts);
  const ctx = { d, browser: null };
  before(async () => {
    await d.start();
    ctx.browser = await launch(d.dir);
  });
  after(async () => {
    if (ctx.browser) await ctx.browser.close();
    await d.stop();
    d.cleanup();
  });
  return ctx;
}

describe('dashboard without a battery', () => {
  const ctx = daemonWithBrowser({ extra: 'alarms = { debounce_ms = 200; };\n' });
  const { d } = ctx;

  it('loads, connects and says that no BMS delivers data', async () => {
    const page = await openPage(ctx.browser, d.base + '/');
    await page.waitForSelector('#conn[data-state="stale"], #conn[data-state="live"]');
    await page.waitForFunction(() => document.getElementById('ov-state').textContent === 'offline');
    assert.match(await page.textContent('#ov-banner'), /No TinyBMS delivers data/);
    assert.match(await page.textContent('#age'), /no data/);
    assert.equal(await page.evaluate(() => typeof window.Chart), 'function', 'Chart.js is served');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('shows an alert and acknowledges it after asking for the token', async () => {
    const page = await openPage(ctx.browser, d.base + '/#alerts');
    const row = page.locator('#alerts-active tr', { hasText: "No fresh data from string 1 'house'" });
    await row.waitFor();
    assert.equal(await page.textContent('#alert-count'), '1');
    await row.locator('button.ack').click();
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', d.token);
    await page.click('#token-ok');
    await row.locator('text=acknowledged').waitFor();
    const r = await d.req('GET', '/api/alerts/active');
    assert.equal(r.json[0].acknowledged, true);
    // the first try without the token is the one 401 the browser reports
    assert.deepEqual(page.errors.filter((e) => !/status of 401/.test(e)), []);
    await page.close();
  });

  it('shows the server\'s message at a refused setting', async () => {
    const page = await openPage(ctx.browser, d.base + '/#settings');
    await page.evaluate((t) => localStorage.setItem('bmsgw-token', t), d.token);
    await page.reload();
    await page.click('details[data-group="bms"] > summary');
    await page.fill('[data-path="bms.poll_interval_ms"]', '50');
    await page.click('#config-save');
    const msg = page.locator('.field[data-key="bms.poll_interval_ms"] .msg');
    await msg.filter({ hasText: 'must be 100..5000 ms (got 50)' }).waitFor();
    assert.match(await page.textContent('#settings-banner'), /refused/);
    const cfg = (await d.req('GET', '/api/config')).json;
    assert.equal(cfg.bms.poll_interval_ms, 250, 'the refused value was not applied');
    // a good value is saved and the form says so
    await page.fill('[data-path="bms.poll_interval_ms"]', '300');
    await page.click('#config-save');
    await page.locator('#settings-banner', { hasText: 'Saved' }).waitFor();
    assert.equal((await d.req('GET', '/api/config')).json.bms.poll_interval_ms, 300);
    await page.close();
  });

  it('photographs every section on a desktop and a phone', async () => {
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const page = await openPage(ctx.browser, d.base + '/', viewport);
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

describe('dashboard with http.read_requires_token', () => {
  const ctx = daemonWithBrowser({ http: 'read_requires_token = true;' });
  const { d } = ctx;

  it('asks for the token before showing anything, then goes live', async () => {
    const page = await openPage(ctx.browser, d.base + '/');
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', 'not-the-token-at-all');
    await page.click('#token-ok');
    await page.locator('#token-error', { hasText: 'not the right one' }).waitFor();
    await page.fill('#token-input', d.token);
    await page.click('#token-ok');
    await page.waitForSelector('#conn[data-state="stale"], #conn[data-state="live"]');
    await page.waitForFunction(() => document.getElementById('ov-state').textContent === 'offline');
    assert.deepEqual(page.errors.filter((e) => !/status of 40[13]/.test(e)), []);
    await page.close();
  });
});

describe('dashboard with the simulated TinyBMS', () => {
  let sim;
  let d;
  let browser;
  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bmsgw-dash-sim-'));
    sim = new Simulator(dir, ['--quiet', '--cells', '12', '--soc', '63', '--seed', '11']);
    await sim.start();
    // a reply timeout and a staleness no pause of the simulator on a busy machine reaches
    d = new Daemon({ dir, device: sim.device, extra: 'alarms = { debounce_ms = 300; };\n',
      bms: 'timeout_ms = 1000; stale_after_ms = 10000;' });
    await d.start();
    await waitFor(async () => (await d.req('GET', '/api/bms/registers')).json.settings_valid, GIVE_UP_MS,
      'the simulator\'s settings');
    browser = await launch(dir);
  });
  after(async () => {
    if (browser) await browser.close();
    await d.stop();
    await sim.stop();
    d.cleanup();
  });

  const socShown = (page) => page.evaluate(() => Number(document.getElementById('ov-soc').textContent));

  it('shows the simulator\'s state of charge and follows it live', async () => {
    const page = await openPage(browser, d.base + '/');
    await page.waitForSelector('#conn[data-state="live"]');
    await page.waitForFunction(() => !Number.isNaN(Number(document.getElementById('ov-soc').textContent)));
    const truth = await sim.get();
    assert.ok(Math.abs((await socShown(page)) - truth.soc_pct) < 0.6, `${await socShown(page)} vs ${truth.soc_pct}`);
    assert.equal(await page.textContent('#ov-state'), 'idle');
    assert.equal(await sim.cmd('set soc 42'), 'ok');
    await page.waitForFunction(() => Math.abs(Number(document.getElementById('ov-soc').textContent) - 42) < 0.6);
    assert.equal(await sim.cmd('set current 20'), 'ok');
    await page.waitForFunction(() => document.getElementById('ov-state').textContent === 'charging');
    assert.match(await page.textContent('#ov-time-what'), /until full/);
    assert.equal(await sim.cmd('set current 0'), 'ok');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('draws one bar per cell', async () => {
    const page = await openPage(browser, d.base + '/#cells');
    const canvas = '#cells canvas[data-string="1"]';
    await page.waitForSelector(canvas);
    const bars = await page.evaluate((sel) => window.Chart.getChart(document.querySelector(sel)).data.datasets[0].data.length, canvas);
    assert.equal(bars, 12);
    // the bars follow the simulator live: the previous test changed the current, so the cells
    // settle to new voltages; wait for a drawing that matches the simulator's truth of now
    let drawn;
    let truth;
    const matches = async () => {
      truth = await sim.get();
      drawn = await page.evaluate((sel) => window.Chart.getChart(document.querySelector(sel)).data.datasets[0].data, canvas);
      return truth.cells_mv.slice(0, 12).every((mv, i) => Math.abs(drawn[i] - mv) <= 5);
    };
    try {
      await waitFor(matches, GIVE_UP_MS, 'bars equal to the simulator\'s cells');
    } catch (e) {
      assert.fail(`drawn ${JSON.stringify(drawn)} vs simulator ${JSON.stringify(truth.cells_mv)}`);
    }
    assert.match(await page.textContent('#cells .card .sub'), /lowest \d+ mV \(cell \d+\)/);
    await page.close();
  });

  it('raises an alert for a cell over its cutoff and acknowledges it', async () => {
    const page = await openPage(browser, d.base + '/#alerts');
    await page.evaluate((t) => localStorage.setItem('bmsgw-token', t), d.token);
    await page.reload();
    assert.equal(await sim.cmd('set cell 3 3700'), 'ok');
    const row = page.locator('#alerts-active tr', { hasText: 'High cell voltage' });
    await row.waitFor();
    assert.match(await row.textContent(), /3700 mV/);
    await row.locator('button.ack').click();
    await row.locator('text=acknowledged').waitFor();
    await shot(page, 'battery-alert-raised-desktop');
    assert.equal(await sim.cmd('release cell 3'), 'ok');
    await page.locator('#alerts-active tr', { hasText: 'High cell voltage' }).waitFor({ state: 'detached' });
    await page.close();
  });

  it('asks before writing a TinyBMS setting and shows why the BMS range refuses a value', async () => {
    const page = await openPage(browser, d.base + '/#settings');
    await page.evaluate((t) => localStorage.setItem('bmsgw-token', t), d.token);
    await page.reload();
    const row = page.locator('tr.reg-row[data-key="over_voltage_cutoff_mv"]');
    await row.waitFor();
    assert.match(await row.textContent(), /3650 mV/);
    await row.locator('input').fill('5000');
    await row.locator('button').click();
    await page.waitForSelector('#confirm-dialog[open]');
    assert.match(await page.textContent('#confirm-text'), /over-voltage cutoff.*5000 mV.*string 1/i);
    await page.click('#confirm-ok');
    await row.locator('.msg', { hasText: '1200' }).waitFor();
    await row.locator('input').fill('3640');
    await row.locator('button').click();
    await page.click('#confirm-ok');
    await row.locator('.done', { hasText: 'reads back 3640 mV' }).waitFor();
    assert.equal((await sim.get()).settings.over_voltage_cutoff_mv, 3640);
    await page.close();
  });

  it('shows each limit\'s reason, the temperature source and a refused TinyBMS setting', async () => {
    const page = await openPage(browser, d.base + '/');
    await page.waitForSelector('#conn[data-state="live"]');
    // the reasons of the server's limits
    await page.waitForFunction(() => /^CVL /.test(document.getElementById('ov-cvl-why').textContent));
    assert.match(await page.textContent('#ov-ccl-why'), /^CCL /);
    assert.match(await page.textContent('#ov-dcl-why'), /^DCL /);
    assert.match(await page.textContent('#ov-dvl-why'), /^DVL [0-9.]+ V — [0-9]+ x 2\.900 V$/);
    // the temperature source follows the sensors: both unplugged, the BMS internal one is used
    await page.locator('#ov-temp-source', { hasText: 'battery sensors' }).waitFor();
    assert.equal(await page.isHidden('#ov-refused'), true, 'nothing refused yet');
    for (const n of [1, 2]) assert.equal(await sim.cmd(`unplug temp ${n}`), 'ok');
    await page.locator('#ov-temp-source.warning', { hasText: 'BMS internal' }).waitFor();
    for (const n of [1, 2]) assert.equal(await sim.cmd(`plug temp ${n}`), 'ok');
    await page.locator('#ov-temp-source', { hasText: 'battery sensors' }).waitFor();
    // a TinyBMS over-voltage cutoff above the configured 3650 mV is refused and shown
    const before = (await sim.get()).settings.over_voltage_cutoff_mv;
    const write = async (value) => {
      const r = await d.req('POST', '/api/bms/registers', { auth: true,
        body: { string: 1, key: 'over_voltage_cutoff_mv', value } });
      assert.equal(r.status, 200, r.text);
    };
    await write(4200);
    const item = page.locator('#ov-refused-list li', { hasText: 'S1 over-voltage cutoff' });
    await item.waitFor();
    assert.equal(await page.isVisible('#ov-refused'), true);
    assert.match(await item.textContent(), /register 4200 mV, configured 3650 mV in force/);
    await shot(page, 'battery-limits-refused-desktop');
    const message = 'S1 over-voltage cutoff: TinyBMS register 4200 mV is less safe than the '
      + 'configured 3650 mV, which is used';
    await section(page, 'alerts');
    const row = page.locator('#alerts-active tr', { hasText: message });
    await row.waitFor();
    assert.match(await row.textContent(), /warning/);
    // the register put back: the warning clears and the list goes away
    await write(before);
    await row.waitFor({ state: 'detached' });
    await section(page, 'overview');
    await page.waitForSelector('#ov-refused', { state: 'hidden' });
    const active = (await d.req('GET', '/api/alerts/active')).json;
    assert.equal(active.some((a) => a.type === 'bms_setting_refused'), false);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  it('photographs every section with data on a desktop and a phone', async () => {
    assert.equal(await sim.cmd('set current -18'), 'ok');
    for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      const page = await openPage(browser, d.base + '/', viewport);
      await page.waitForSelector('#conn[data-state="live"]');
      for (const name of SECTIONS) {
        await section(page, name);
        await page.waitForTimeout(name === 'trends' ? 1500 : 500);
        await shot(page, `battery-${name}-${size}`);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
        assert.equal(wide, false, `${name} is wider than the ${size} screen`);
      }
      assert.deepEqual(page.errors.filter((e) => !/status of 503/.test(e)), []);
      await page.close();
    }
    assert.equal(await sim.cmd('set current 0'), 'ok');
  });
});
