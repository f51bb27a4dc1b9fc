/**
 * report.html in a real browser: Debian's headless Chromium loads the file (network and every background
 * service off, a throw-away profile), and its DOM after loading and a screenshot are checked. The test
 * installs nothing: .ci/run installs Chromium where it is missing.
 */
import assert from "node:assert/strict";
import { writeReport } from "../../lib/report/write.ts";
import { syntheticReport } from "./_fixtures.ts";

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--hide-scrollbars",
];

async function chromium(
  args: string[],
  profile: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("chromium", {
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error("chromium is not on PATH: install Debian's chromium package (.ci/run does)");
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

Deno.test("report.html renders in headless Chromium: its tables are in the DOM and the screenshot is not blank", async () => {
  const dir = await Deno.makeTempDir({ prefix: "report-chromium-" });
  try {
    const input = await syntheticReport(dir);
    const { html } = await writeReport(dir, input);
    const url = `file://${await Deno.realPath(html)}`;

    const dom = await chromium(["--dump-dom", url], `${dir}/profile-dom`);
    assert.equal(dom.code, 0, dom.stderr);
    // The browser parsed the tables: every model id and the per-arm mean ± std are table cells.
    for (const m of input.models) {
      assert.ok(dom.stdout.includes(`<td>${m.id}</td>`), `DOM lacks the row of ${m.id}`);
    }
    assert.ok(dom.stdout.includes('<td class="num">492.1 ± 16.97</td>'), "DOM lacks the per-arm perplexity");
    assert.equal(
      dom.stdout.match(/<table>/g)?.length,
      4,
      "expected the arm, model, stage and settings tables",
    );
    assert.equal(dom.stdout.match(/<svg/g)?.length, 5, "expected five inline plots");
    assert.doesNotMatch(dom.stdout, /<script/i, "a sample's markup was not escaped");

    // A screenshot of the page, and of an empty page of the same size for comparison: text, tables and
    // plots compress far worse than white.
    const size = "--window-size=1200,2400";
    const shot = `${dir}/report.png`;
    const r = await chromium([size, `--screenshot=${shot}`, url], `${dir}/profile-shot`);
    assert.equal(r.code, 0, r.stderr);
    const png = await Deno.readFile(shot);
    assert.deepEqual(pngSize(png), { width: 1200, height: 2400 });
    await Deno.writeTextFile(`${dir}/blank.html`, "<!DOCTYPE html><html><body></body></html>");
    const blankShot = `${dir}/blank.png`;
    const b = await chromium(
      [size, `--screenshot=${blankShot}`, `file://${dir}/blank.html`],
      `${dir}/profile-blank`,
    );
    assert.equal(b.code, 0, b.stderr);
    const blank = await Deno.readFile(blankShot);
    assert.ok(
      png.length > 10 * blank.length,
      `screenshot ${png.length} B vs blank ${blank.length} B: nothing drawn?`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
