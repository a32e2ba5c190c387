/**
 * The testnet dashboard in a real browser: starts a small real testnet (`ordo testnet up`, 3 validators,
 * light load), opens its dashboard in headless Chromium through playwright-core and checks that the
 * node heights shown on the page advance while it is open (live over server-sent events), that the
 * uPlot charts (served locally) draw pixels and gain points as samples arrive, that validators are
 * listed by genesis name with a signing record, that every rollup has a panel, that the bundles panel
 * (figures and two charts, from a node's /metrics) renders, that the auction panel says "auction
 * disabled" with the reason while the nodes have no ordo_getAuction (or shows its slot table, with each
 * slot's failure penalties, once they run an auction), and that a fault shows on the timeline. Uses Debian's
 * /usr/bin/chromium (installed by .ci/run); skipped locally when it is absent, required under CI.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { RpcCallError, rpcCall } from '../../src/rpc/index.ts';
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

async function openDashboard(ctx: BrowserContext, url: string): Promise<Page> {
  const page = await ctx.newPage();
  await page.goto(url);
  await page.waitForSelector('#nodes tbody tr[data-node]', { timeout: 20_000 });
  return page;
}

const heightsOf = (page: Page) => () =>
  page.$$eval('#nodes tbody tr[data-node] td[data-field="height"]', (tds) =>
    tds.map((td) => Number(td.textContent) || 0),
  );

interface ChartInfo {
  points: number;
  nonZero: number;
  inkPixels: number;
}

/** Per chart: how many samples it holds, how many are > 0, and how many canvas pixels are drawn. */
const chartsOf = (page: Page) => (): Promise<Record<string, ChartInfo>> =>
  page.evaluate(() => {
    type Ctx = {
      canvas: { width: number; height: number };
      getImageData: (x: number, y: number, w: number, h: number) => { data: Uint8ClampedArray };
    };
    type U = { data: (number | null)[][]; ctx: Ctx };
    const charts = (globalThis as unknown as { __ordo: { charts: Record<string, U> } }).__ordo.charts;
    const out: Record<string, { points: number; nonZero: number; inkPixels: number }> = {};
    for (const [name, u] of Object.entries(charts)) {
      const { width, height } = u.ctx.canvas;
      const px = u.ctx.getImageData(0, 0, width, height).data;
      let ink = 0;
      for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) ink++;
      const ys = u.data.slice(1).flat();
      out[name] = {
        points: u.data[0]?.length ?? 0,
        nonZero: ys.filter((y) => (y ?? 0) > 0).length,
        inkPixels: ink,
      };
    }
    return out;
  });

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
        const page = await openDashboard(browser, state.dashboardUrl);
        const heights = heightsOf(page);
        const charts = chartsOf(page);
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

        // Charts: all four exist, draw, and gain points as samples arrive; throughput shows the load.
        const c1 = await waitFor(
          async () => {
            const c = await charts();
            return c.throughput !== undefined && c.throughput.nonZero > 0 ? c : undefined;
          },
          60_000,
          'a throughput chart with committed transactions',
        );
        for (const name of ['throughput', 'latency', 'interval', 'pending']) {
          expect(c1[name], name).toBeDefined();
          expect(c1[name]!.inkPixels, `${name} draws`).toBeGreaterThan(500);
        }
        await waitFor(
          async () => {
            const c = await charts();
            return (c.throughput?.points ?? 0) > c1.throughput!.points ? c : undefined;
          },
          30_000,
          'the throughput chart to gain points',
        );
        expect((await charts()).interval!.nonZero).toBeGreaterThan(0);

        // Bundles panel (from a node's /metrics): figures and its two charts draw.
        await page.waitForSelector('#bundle-stats [data-field="bundlesPerSec"]', { timeout: 20_000 });
        const c2 = await waitFor(
          async () => {
            const c = await charts();
            return c.bundles !== undefined && c.bundles.points > 0 ? c : undefined;
          },
          30_000,
          'the bundles chart to gain points',
        );
        for (const name of ['bundles', 'preconfirm']) {
          expect(c2[name]!.inkPixels, `${name} draws`).toBeGreaterThan(500);
        }
        expect(await page.$eval('#bundles-source', (el) => el.textContent)).toMatch(/^from node\d/);

        // Auction panel: "auction disabled" with the reason when the method is absent (-32601) or the
        // auction is off in genesis; the slot table when the nodes run one.
        const node0 = state.nodes[0]!.rpc;
        let auction: 'absent' | 'off' | 'on';
        try {
          const r = (await rpcCall(node0, 'ordo_getAuction', [1], 2000)) as { enabled?: boolean } | null;
          auction = r !== null && r.enabled === false ? 'off' : 'on';
        } catch (err) {
          if (!(err instanceof RpcCallError) || err.rpcCode !== -32601) throw err;
          auction = 'absent';
        }
        if (auction === 'on') {
          await page.waitForSelector('#auction[data-status="enabled"] #auction-slots', { timeout: 20_000 });
          // Each slot shows what its failing bids paid (ADR 0320), with a total over the slots shown.
          await page.waitForSelector('#auction-slots th[data-col="penalties"]', { timeout: 5_000 });
          expect(await page.$eval('#auction [data-field="penalties"]', (el) => el.textContent)).toMatch(
            /^[0-9]+$/,
          );
        } else {
          await page.waitForSelector('#auction[data-status="disabled"]', { timeout: 20_000 });
          const text = await page.$eval('#auction', (el) => el.textContent ?? '');
          expect(text).toMatch(/^auction disabled: /);
          expect(text).toMatch(auction === 'absent' ? /no ordo_getAuction method/ : /genesis/);
        }

        // One panel per rollup, validators by genesis name with a signing record.
        // The default genesis: opaque, transfer, evm and evm-2.
        expect(await page.$$eval('#rollups [data-rollup]', (els) => els.length)).toBe(4);
        const validators = await page.$$eval('#validators tbody tr[data-validator]', (rows) =>
          rows.map((r) => ({
            name: r.getAttribute('data-validator'),
            signed: Number(r.querySelector('[data-field="signed"]')?.textContent),
          })),
        );
        expect(validators.map((v) => v.name)).toEqual(state.nodes.map((n) => n.id));
        expect(validators.some((v) => v.signed > 0)).toBe(true);
        const proposer = await page.$eval(
          '#blocks tbody tr td[data-field="proposer"]',
          (td) => td.textContent,
        );
        expect(state.nodes.map((n) => n.id)).toContain(proposer);

        // A fault shows on the timeline.
        const heal = runOrdo(['testnet', 'heal', '--dir', dir]);
        expect(await heal.exited, heal.out()).toBe(0);
        await page.waitForSelector('#timeline [data-fault="heal"]', { timeout: 20_000 });

        const down = runOrdo(['testnet', 'down', '--dir', dir]);
        expect(await down.exited, down.out()).toBe(0);
        expect(await run.exited).toBe(0);
        expect(pidsMatching(join(dir, 'nodes'))).toEqual([]);
      }),
    420_000,
  );
});
