/**
 * Small synthetic run folders for the report tests: a teacher, two student arms and one condensed arm with
 * two seeds each, loss curves made up from a seeded RNG, projection points and samples (one of which tries
 * to inject HTML).
 *
 * @module
 */
import { Rng } from "../../lib/rng.ts";
import type { ProjectionPoint, ReportInput, ReportModel } from "../../lib/report/types.ts";

/** A sample that must come out escaped, never as markup. */
export const HOSTILE_SAMPLE = 'The river <script>alert("x")</script> & <b>bold</b> | pipe';

function metricsText(rng: Rng, steps: number, start: number, end: number): string {
  const lines: string[] = [];
  for (let step = 1; step <= steps; step++) {
    const loss = start + (end - start) * (step / steps) + 0.1 * (rng.next() - 0.5);
    lines.push(JSON.stringify({ event: "step", step, loss, lr: 1e-3, tokens_per_s: 100, grad_norm: 1 }));
    if (step % 5 === 0) {
      lines.push(
        JSON.stringify({ event: "eval", step, val_loss: loss + 0.2, val_ppl: Math.exp(loss + 0.2) }),
      );
    }
  }
  lines.push("not json"); // a torn line is skipped
  return lines.join("\n") + "\n";
}

/** Writes the run folders into `dir` and returns the report input that points at them. */
export async function syntheticReport(dir: string): Promise<ReportInput> {
  const rng = new Rng(7);
  const arms = [
    { arm: "teacher", label: "teacher (tiny)", group: "teacher", seeds: 1, ppl: 210, steps: 20 },
    {
      arm: "student-kd",
      label: "student: KD (ce+clm+cos)",
      group: "students",
      seeds: 2,
      ppl: 480,
      steps: 10,
    },
    { arm: "student-kd-mse", label: "student: KD + MSE", group: "students", seeds: 2, ppl: 455, steps: 10 },
    {
      arm: "condensed-kmeans",
      label: "120 examples: k-means",
      group: "condensed",
      seeds: 2,
      ppl: 2900,
      steps: 10,
    },
  ];
  const models: ReportModel[] = [];
  for (const a of arms) {
    for (let seed = 0; seed < a.seeds; seed++) {
      const id = a.seeds > 1 ? `${a.arm}-s${seed}` : a.arm;
      const runDir = `${a.group}/${id}`;
      await Deno.mkdir(`${dir}/${runDir}`, { recursive: true });
      await Deno.writeTextFile(
        `${dir}/${runDir}/metrics.jsonl`,
        metricsText(rng, a.steps, 10.8, Math.log(a.ppl)),
      );
      const ppl = a.ppl * (1 + 0.05 * seed) + 0.123;
      models.push({
        id,
        arm: a.arm,
        label: a.label,
        group: a.group,
        seed,
        params: 6_860_000 - (a.group === "students" ? 198_000 : 0),
        steps: a.steps,
        trainTokens: a.steps * 128,
        trainSeconds: a.steps * 1.5,
        testNll: Math.log(ppl),
        testPpl: ppl,
        testTokens: 1984,
        forwardTokensPerS: 400 + seed,
        metrics: `${runDir}/metrics.jsonl`,
      });
    }
  }
  const projection: ProjectionPoint[] = [];
  for (const panel of ["KD + MSE", "KD + Wasserstein"]) {
    for (const method of ["PCA", "t-SNE"] as const) {
      for (let i = 0; i < 40; i++) {
        const model = i < 20 ? "teacher" : "student";
        projection.push({
          panel,
          method,
          model,
          x: rng.next() + (model === "teacher" ? 0 : 2),
          y: rng.next(),
        });
      }
    }
  }
  return {
    title: "Synthetic report",
    notes: ["Data: made-up numbers for a test.", "Second note with <angle brackets> & an ampersand."],
    models,
    samples: [
      { model: "teacher", prompt: "The river", text: HOSTILE_SAMPLE },
      { model: "student-kd-s0", prompt: "The river", text: "The river flows\nnorth to the sea." },
    ],
    projection,
    stages: [
      { name: "teacher", seconds: 30.25, skipped: false },
      { name: "student-kd-s0", seconds: 12.5, skipped: true },
    ],
    totalSeconds: 123.4,
    settings: { data: "embedded", seq: 32, seeds: 2 },
  };
}
