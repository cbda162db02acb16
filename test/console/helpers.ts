// A real gateway with login, admin API and console; real browsers (Debian's chromium via
// playwright-core); axe-core checks. Shared by the console's browser tests.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Test } from 'tap';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM } from '../helpers/machine.js';

export const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export async function launch(t: Test): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  return browser;
}

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
}

/** Serious or critical axe-core violations on the page, as "rule at selector" (axe-core injected once per page). */
export async function axeSerious(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof globalThis.axe === "object"'))) await page.evaluate(AXE);
  const axe = (await page.evaluate(() => (globalThis as unknown as { axe: { run(o: object): Promise<unknown> } }).axe.run({ resultTypes: ['violations'] }))) as AxeResult;
  return axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const DOCS_IMAGES = resolve(import.meta.dirname, '../../docs/images');

/**
 * Where a page's screenshot goes, from GATEHOUSE_SCREENSHOTS: `1` writes the docs' images
 * (docs/images/console-<page>.png at 1280 px, and the session list at 375 px as
 * console-sessions-375.png); a directory gets every page at every width; unset, none.
 */
export function screenshotPath(name: string, width: number, shots = process.env.GATEHOUSE_SCREENSHOTS): string | null {
  if (!shots) return null;
  if (shots !== '1') return join(shots, `console-${name}-${width}.png`);
  if (width === 1280) return join(DOCS_IMAGES, `console-${name}.png`);
  return name === 'sessions' ? join(DOCS_IMAGES, `console-${name}-${width}.png`) : null;
}

/** The widths every page is checked at: a phone's and a laptop's. */
export const WIDTHS = [375, 1280] as const;

/**
 * The page's own checks at each width: no sideways overflow of the page, no serious accessibility
 * violation. The window is resized, the page not reloaded: the console's layout is CSS alone (no
 * script reads the width), so a resized page lays out as one loaded at that width. The window ends
 * at the first width (a phone's), where the next page is loaded.
 */
export async function checkPage(t: Test, page: Page, name: string, widths: readonly number[] = WIDTHS): Promise<void> {
  for (const width of [...widths].reverse()) {
    await page.setViewportSize({ width, height: 900 });
    const scrollWidth = (await page.evaluate('document.documentElement.scrollWidth')) as number;
    t.ok(scrollWidth <= width, `${name} at ${width}: no horizontal overflow (${scrollWidth})`);
    t.same(await axeSerious(page), [], `${name} at ${width}: no serious or critical accessibility violation`);
    const path = screenshotPath(name, width);
    if (path) await page.screenshot({ path, fullPage: width < 600 });
  }
}
