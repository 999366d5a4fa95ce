/**
 * The README's picture of the live view: `compare MODEL --board B --input mnist:0:N --report` through
 * the built CLI, the report opened in Debian's chromium, the top of the page saved as a PNG.
 *
 *   npx tsx scripts/ui-screenshot.ts MODEL.cbor [BOARD] [OUT.png]     (defaults: native, docs/live-view.png)
 *
 * MODEL is an MNIST model (`picospike train`, `convert`, `quantize`, as the demo does).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumMissing, launchChromium } from "../ui/testing/chromium.js";

const [model, board = "native", out = "docs/live-view.png"] = process.argv.slice(2);
if (model === undefined) {
  console.error("usage: npx tsx scripts/ui-screenshot.ts MODEL.cbor [BOARD] [OUT.png]");
  process.exit(2);
}
const missing = chromiumMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), "picospike-shot-"));
try {
  const report = join(dir, "report.html");
  execFileSync(process.execPath, ["bin/picospike.js", "compare", model, "--board", board, "--input", "mnist:0:12", "--steps", "32", "--report", report], {
    stdio: "inherit",
  });
  const chromium = await launchChromium();
  try {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`file://${report}`);
    await page.select("#sample", "3");
    await new Promise((r) => setTimeout(r, 300));
    await page.screenshot({ path: out, clip: { x: 0, y: 0, width: 1280, height: 800 } });
    console.log(`wrote ${out}`);
  } finally {
    await chromium.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
