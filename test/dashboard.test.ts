// The live dashboard in a real browser (Debian chromium through playwright-core) against the node
// `npm start` runs (deploy/examples/local.yaml: four simulated endpoints and GPUs, router on
// worker threads): the fleet shows, a chart moves under traffic, a quarantined GPU shows as
// quarantined within two refreshes, and the decision explorer shows a request's per-scorer
// scores. UPDATE_SCREENSHOTS=1 saves docs/images/dashboard-{fleet,decisions}.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { simSourceOf } from '../src/agent/gpu-telemetry-role.ts';
import { simGpuUuid } from '../src/signal/gpu/sim/source.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { chat, LOCAL_SIMULATORS, startLocalExample } from './helpers/dashboard-mesh.ts';

const CHROMIUM = '/usr/bin/chromium';
const IMAGES = new URL('../docs/images/', import.meta.url);
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
/** The dashboard's refresh (the fleet hub's default interval). */
const REFRESH_MS = 1000;

const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run the dashboard's browser test`;

/** A chart's point count and the sum of its latest values (attributes the page keeps current). */
async function chartState(page: Page, key: string): Promise<{ points: number; last: number }> {
  const chart = page.locator(`.chart[data-chart="${key}"]`);
  return {
    points: Number(await chart.getAttribute('data-points')),
    last: Number(await chart.getAttribute('data-last')),
  };
}

/** Polls until `check` holds (bounded). The page's own functions would need DOM types here. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test(
  'the dashboard shows the fleet, moves with traffic, flags quarantine, explains decisions',
  { skip, timeout: 120_000 },
  async (t) => {
    // Two router threads whatever the machine: decisions then come from workers, over the relay.
    const meshd = await startLocalExample({ router: { workers: 2 } });
    t.after(() => meshd.stop());
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    t.after(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1480, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await waitFor(() => meshd.store.list().length === 4 && meshd.gpus.list().length === 4, 10_000, 'state');

    await page.goto(meshd.dashboardUrl);
    await page.waitForSelector('#link[data-state="live"]', { timeout: 10_000 });

    // The four simulated endpoints and their GPUs.
    for (const name of LOCAL_SIMULATORS) {
      await page.waitForSelector(`#endpoints tr[data-endpoint="local/${name}"]`, { timeout: 5000 });
      const gpu = await page.waitForSelector(`#gpus tr[data-gpu="${simGpuUuid('local', name)}"]`, {
        timeout: 5000,
      });
      assert.match((await gpu.textContent()) ?? '', new RegExp(`healthy.*local/${name}`));
    }
    assert.equal(await page.locator('#endpoints tbody tr').count(), 4);
    assert.equal(await page.locator('#gpus tbody tr').count(), 4);

    // Traffic: a chart moves (requests/s above zero, points added) while it runs.
    const before = await chartState(page, 'rps');
    let sending = true;
    const statuses: number[] = [];
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (sending) statuses.push(await chat(meshd.routerUrl!));
      }),
    );
    try {
      await until(
        async () => {
          const now = await chartState(page, 'rps');
          return now.last > 0 && now.points > before.points;
        },
        10_000,
        'the requests/s chart to move',
      );
      const moving = await chartState(page, 'rps');
      assert.ok(moving.points > before.points && moving.last > 0, JSON.stringify({ before, moving }));
      await until(async () => (await chartState(page, 'ttft')).last > 0, 10_000, 'a TTFT point');

      // The decision explorer: a known request's decision, with every scorer's score and weight.
      assert.equal(await chat(meshd.routerUrl!, { requestId: 'dashboard-probe' }), 200);
      // A locator, not a handle: the row is replaced when the request's outcome arrives.
      await page.locator('#decisions tr[data-request="dashboard-probe"]').click({ timeout: 5000 });
      await page.waitForSelector('#decision-detail table.scores th[data-scorer="work-left"]', {
        timeout: 5000,
      });
      const detail = (await page.textContent('#decision-detail')) ?? '';
      assert.match(detail, /dashboard-probe/);
      assert.match(detail, /router thread\s*worker [12]/);
      assert.match(detail, /weight 1/);
      assert.match(detail, /admitted: predicted wait \d+ ms within \d+ ms/);
      await until(
        async () => /200 · TTFT \d+ ms · 16 tok/.test((await page.textContent('#decision-detail')) ?? ''),
        5000,
        "the probe's outcome",
      );
      const rows = page.locator('#decision-detail table.scores tbody tr');
      const scores: string[][] = [];
      for (let i = 0; i < (await rows.count()); i++)
        scores.push(await rows.nth(i).locator('td').allTextContents());
      assert.ok(scores.length >= 2, 'several candidates explained');
      for (const cells of scores) for (const c of cells.slice(1)) assert.match(c, /^\d\.\d{3}$/);
      assert.ok(
        scores.some((cells) => /pick/.test(cells[0] ?? '')),
        'the pick is marked',
      );
      if (SCREENSHOTS)
        await page
          .locator('#explorer')
          .screenshot({ path: new URL('dashboard-decisions.png', IMAGES).pathname });

      // Quarantine: a critical XID on one GPU shows as quarantined within two refreshes.
      const sim = simSourceOf(meshd.gpuTelemetry);
      assert.ok(sim, 'the sim GPU source runs');
      const bad = simGpuUuid('local', 'sim-a100-1');
      sim.inject(bad, { xidLast: 79 });
      await waitFor(() => meshd.gpuTelemetry!.quarantine.list().length === 1, 5000, 'quarantine');
      const quarantinedAt = Date.now();
      await page.waitForSelector(`#gpus tr.quarantined[data-gpu="${bad}"]`, {
        timeout: 2 * REFRESH_MS + 500,
      });
      assert.ok(Date.now() - quarantinedAt <= 2 * REFRESH_MS + 500);
      assert.match(
        (await page.textContent(`#gpus tr[data-gpu="${bad}"]`)) ?? '',
        /quarantined: xid.*critical XID 79/,
      );
      await page.waitForSelector('#events li[data-type="gpu_quarantined"]', { timeout: 5000 });
      if (SCREENSHOTS) {
        // For the picture only: half a minute of heavier, longer requests, so queues and KV fill.
        const until = Date.now() + 30_000;
        await Promise.all(
          Array.from({ length: 48 }, async (_, i) => {
            await new Promise((r) => setTimeout(r, i * 300));
            while (Date.now() < until) await chat(meshd.routerUrl!, { maxTokens: 64 + (i % 4) * 96 });
          }),
        );
      }
    } finally {
      sending = false;
      await load;
    }
    assert.ok(
      statuses.length > 0 && statuses.every((s) => s === 200),
      `statuses ${[...new Set(statuses)].join(',')}`,
    );
    if (SCREENSHOTS) {
      await page.mouse.wheel(0, -100_000); // back to the top: the charts and tables
      await page.screenshot({ path: new URL('dashboard-fleet.png', IMAGES).pathname });
    }
    assert.deepEqual(pageErrors, []);
  },
);
