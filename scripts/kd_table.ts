/**
 * Aggregates scripts/kd_experiment.sh's outputs into a table: test perplexity per arm as mean ± sd over
 * seeds, final training loss, tokens/s and the fraction of step time spent waiting for the teacher.
 * Usage: deno run --allow-read --allow-write=./runs scripts/kd_table.ts OUT_DIR
 */
import { writeFileAtomic } from "../lib/io/atomic.ts";

const out = Deno.args[0] ?? "runs/kd";
const ARMS: Record<string, string> = {
  clm: "causal-LM only",
  kd: "KD: ce + clm + cos",
  kd_mse: "KD + MSE",
  kd_wd: "KD + Wasserstein",
};

function meanSd(xs: number[]): { mean: number; sd: number; n: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length };
}

const files = [...Deno.readDirSync(out)].map((e) => e.name);
const teacher = JSON.parse(Deno.readTextFileSync(`${out}/teacher.eval.json`));
// Written by scripts/kd_experiment.sh; older result folders lack it (students started from scratch then).
const settings = files.includes("settings.json")
  ? JSON.parse(Deno.readTextFileSync(`${out}/settings.json`))
  : { init: "scratch" };
const start = settings.init === "teacher"
  ? "started from the teacher's embeddings, final layer norm and blocks [0, 3] (--init-from-teacher)"
  : "started from scratch (configs/student-l2-c256.json)";
const budget = settings.steps
  ? `; every arm ${settings.steps} steps of ${settings.batch}×${settings.seq} tokens at peak lr ${settings.lr}`
  : "";
const rows: Record<string, unknown>[] = [];
for (const [arm, label] of Object.entries(ARMS)) {
  const runs = files.filter((f) => f.startsWith(`${arm}-s`) && f.endsWith(".eval.json")).map((f) =>
    f.slice(0, -10)
  );
  if (runs.length === 0) continue;
  const ppl: number[] = [];
  const loss: number[] = [];
  const tps: number[] = [];
  const wait: number[] = [];
  for (const run of runs) {
    ppl.push(JSON.parse(Deno.readTextFileSync(`${out}/${run}.eval.json`)).ppl);
    const lines = Deno.readTextFileSync(`${out}/${run}.train.jsonl`).split("\n").filter((l) =>
      l.startsWith("{")
    )
      .map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.step !== undefined && l.event === undefined);
    loss.push(steps[steps.length - 1].loss);
    tps.push(steps.reduce((a, s) => a + s.tokens_per_s, 0) / steps.length);
    const done = lines.find((l) => l.event === "done");
    if (done?.teacher_wait_fraction !== undefined) wait.push(done.teacher_wait_fraction);
  }
  rows.push({
    arm,
    label,
    seeds: runs.length,
    test_ppl: meanSd(ppl),
    final_train_loss: meanSd(loss),
    tokens_per_s: meanSd(tps),
    teacher_wait_fraction: wait.length ? meanSd(wait) : null,
    runs,
  });
}
const f = (m: { mean: number; sd: number }, d = 1) => `${m.mean.toFixed(d)} ± ${m.sd.toFixed(d)}`;
const md = [
  `Training text: WikiText-2 valid.txt; evaluation: the first ${
    teacher.tokens + teacher.windows
  } tokens of WikiText-2 test.txt`,
  `(non-overlapping 128-token windows, HF sliding-window scoring). Teacher (4 layers, C256): test perplexity ${
    teacher.ppl.toFixed(1)
  }.`,
  `Students ${start}${budget}.`,
  "",
  "| student (2 layers, C256) | seeds | test perplexity (mean ± sd) | final training objective | tokens/s | teacher wait |",
  "| --- | --- | --- | --- | --- | --- |",
  ...rows.map((r) => {
    const w = r.teacher_wait_fraction as { mean: number; sd: number } | null;
    return `| ${r.label} | ${r.seeds} | ${f(r.test_ppl as { mean: number; sd: number })} | ${
      f(r.final_train_loss as { mean: number; sd: number }, 3)
    } | ${f(r.tokens_per_s as { mean: number; sd: number })} | ${
      w ? `${(100 * w.mean).toFixed(1)}%` : "—"
    } |`;
  }),
].join("\n");
await writeFileAtomic(`${out}/results.md`, md + "\n");
await writeFileAtomic(`${out}/results.json`, JSON.stringify({ teacher, settings, rows }, null, 2) + "\n");
console.log(md);
