/**
 * Debian's chromium driven by puppeteer-core, for the browser tests and the README screenshot:
 * never a downloaded browser, a fresh profile per launch, and the flags that keep a headless
 * browser off the network. Tests skip with `chromiumMissing()` as the printed reason.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

/** The system browser the tests use. */
export const CHROMIUM = process.env["PICOSPIKE_CHROMIUM"] ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (Debian package chromium; scripts/install-system-deps.sh installs it)`;
}

/** A launched browser with its own throw-away profile; close() removes both. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "picospike-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      "--disable-dev-shm-usage",
      "--hide-scrollbars",
    ],
    defaultViewport: { width: 1360, height: 1000 },
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
