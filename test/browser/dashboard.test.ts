/**
 * The testnet dashboard in a real browser: starts a small real testnet (`ordo testnet up`, 3 validators,
 * light load), opens its dashboard in headless Chromium through playwright-core and checks that the
 * node heights shown on the page advance while it is open (live over server-sent events). Uses Debian's
 * /usr/bin/chromium (installed by .ci/run); skipped locally when it is absent, required under CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { readState } from '../../testnet/state.ts';
import {
  freeBasePort,
  killMatching,
  pidsMatching,
  type Run,
  runOrdo,
  waitFor,
  withTestnetLock,
} from '../e2e/testnet/helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) {
  throw new Error(`${CHROMIUM} is required under CI (the .ci/run script installs Debian's chromium)`);
}

const dir = mkdtempSync(join(tmpdir(), 'ordo-dashboard-'));
let run: Run | undefined;
let browser: BrowserContext | undefined;

afterAll(async () => {
  await browser?.close();
  if (run !== undefined && run.proc.exitCode === null) {
    run.proc.kill('SIGINT');
    await Promise.race([run.exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  killMatching(dir);
  rmSync(dir, { recursive: true, force: true });
});

async function pageHeights(ctx: BrowserContext, url: string): Promise<() => Promise<number[]>> {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('#nodes tbody tr[data-node]', { timeout: 20_000 });
  return () =>
    page.$$eval('#nodes tbody tr[data-node] td[data-field="height"]', (tds) =>
      tds.map((td) => Number(td.textContent) || 0),
    );
}

describe.skipIf(!available)('testnet dashboard (headless Chromium)', () => {
  it(
    'shows every node and its height advancing live',
    () =>
      withTestnetLock(async () => {
        const base = await freeBasePort(3);
        run = runOrdo([
          'testnet',
          'up',
          '--validators',
          '3',
          '--load',
          '50',
          '--load-namespaces',
          '1',
          '--dashboard',
          '0',
          '--base-port',
          String(base),
          '--dir',
          dir,
        ]);
        const state = await waitFor(
          () => {
            const s = readState(dir);
            return s?.nodes.every((n) => n.state === 'running') ? s : undefined;
          },
          90_000,
          `the testnet to come up:\n${run.out()}`,
        );
        browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
          executablePath: CHROMIUM,
          headless: true,
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
        const heights = await pageHeights(browser, state.dashboardUrl);
        const first = await waitFor(
          async () => {
            const h = await heights();
            return h.length === 3 && h.every((x) => x > 0) ? h : undefined;
          },
          60_000,
          'all three heights on the page',
        );
        const advanced = await waitFor(
          async () => {
            const h = await heights();
            return h.every((x, i) => x > (first[i] ?? 0)) ? h : undefined;
          },
          60_000,
          'heights to advance on the page',
        );
        expect(advanced.length).toBe(3);

        const down = runOrdo(['testnet', 'down', '--dir', dir]);
        expect(await down.exited, down.out()).toBe(0);
        expect(await run.exited).toBe(0);
        expect(pidsMatching(join(dir, 'nodes'))).toEqual([]);
      }),
    420_000,
  );
});
