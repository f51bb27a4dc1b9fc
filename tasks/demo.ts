/**
 * `deno task demo`: the experiments end to end on the embedded corpus in under ten minutes on a 2-core
 * CPU — train a teacher, export it to ONNX, distil four students with the teacher in onnxruntime-node,
 * condense the training text to 120 examples three ways and train on each, evaluate everything and write
 * OUT/report.md and OUT/report.html. Rerunning resumes: finished stages are skipped. See lib/demo/.
 */
import { type CommandSpec, parseCommand } from "../lib/cli/args.ts";
import { loadConfigFile, mergeConfig } from "../lib/cli/config.ts";
import { emitJson } from "../lib/cli/json.ts";
import { runMain } from "../lib/cli/main.ts";
import { runDemo } from "../lib/demo/pipeline.ts";
import { DEMO_DEFAULTS as D, type DemoSettings } from "../lib/demo/settings.ts";

export const demoSpec = {
  name: "demo",
  summary: "Reproduce the experiments: teacher → ONNX → distilled students (causal LM; KD; + MSE; + " +
    "Wasserstein) → condensed sets (k-means, random, synthetic) and training on each → test perplexity, " +
    "samples and hidden-state projections → OUT/report.md and a self-contained OUT/report.html. A rerun " +
    "resumes where the last one stopped.",
  usage: "deno task demo [--data PATH] [--out DIR] [--config FILE] [flags]",
  flags: {
    data: {
      type: "string",
      description:
        "'embedded', or a WikiText folder (wiki.{train,valid,test}.raw; a folder with only valid " +
        "and test trains on valid)",
      default: D.data,
      placeholder: "PATH",
    },
    out: { type: "string", description: "output folder", default: D.out, placeholder: "DIR" },
    config: {
      type: "string",
      description: "JSON file of settings (keys as the flags: seq, teacher-steps, …); flags win",
      placeholder: "FILE",
    },
    seq: {
      type: "int",
      description: "tokens per block and evaluation window (T)",
      default: D.seq,
      min: 2,
      max: 256,
    },
    batch: { type: "int", description: "sequences per micro-batch (B)", default: D.batch, min: 1 },
    "teacher-steps": { type: "int", description: "teacher optimizer steps", default: D.teacherSteps, min: 1 },
    "teacher-lr": {
      type: "float",
      description: "teacher peak learning rate",
      default: D.teacherLr,
      min: 0,
      exclusiveMin: true,
    },
    "student-steps": { type: "int", description: "steps per student", default: D.studentSteps, min: 1 },
    "student-lr": {
      type: "float",
      description: "student peak learning rate",
      default: D.studentLr,
      min: 0,
      exclusiveMin: true,
    },
    "condensed-steps": {
      type: "int",
      description: "steps per model trained on a condensed set",
      default: D.condensedSteps,
      min: 1,
    },
    "condensed-lr": {
      type: "float",
      description: "learning rate on condensed sets",
      default: D.condensedLr,
      min: 0,
      exclusiveMin: true,
    },
    k: { type: "int", description: "examples per condensed set", default: D.k, min: 1 },
    seeds: {
      type: "int",
      description: "seeds per student and condensed arm",
      default: D.seeds,
      min: 1,
      max: 10,
    },
    "eval-tokens": {
      type: "int",
      description: "test tokens scored per model",
      default: D.evalTokens,
      min: 3,
    },
    "eval-every": {
      type: "int",
      description: "validate every N steps while training",
      default: D.evalEvery,
      min: 0,
    },
    "eval-batches": {
      type: "int",
      description: "validation batches per validation",
      default: D.evalBatches,
      min: 0,
    },
    prompt: { type: "string", description: "prompt of the samples", default: D.prompt, placeholder: "TEXT" },
    "sample-tokens": { type: "int", description: "new tokens per sample", default: D.sampleTokens, min: 1 },
    "projection-tokens": {
      type: "int",
      description: "test positions whose hidden states are projected",
      default: D.projectionTokens,
      min: 3,
    },
    "teacher-threads": {
      type: "int",
      description: "onnxruntime-node threads of the teacher",
      default: D.teacherThreads,
      min: 1,
    },
    "report-only": {
      type: "boolean",
      description: "only re-render the report from the finished stages in OUT",
    },
    json: { type: "boolean", description: "print a summary as one JSON object on stdout" },
  },
  examples: [
    "deno task demo",
    "deno task demo --data ../data/wikitext-2-raw --out runs/demo-wt2",
    "deno task demo --seeds 3 --student-steps 20 --out runs/demo-long",
    "deno task demo --config demo.json --json",
    "deno task demo --report-only",
  ],
} satisfies CommandSpec;

/** What the demo may do and how to say so when it tries something else. */
export const demoPermissionHints = {
  write: "the demo only writes under runs/ and .cache/; pick --out inside runs/",
  ffi: "the demo serves its teacher with onnxruntime-node: run it through `deno task demo`",
};

/** Runs the demo with `argv` (default: the process arguments). */
export async function main(argv: readonly string[] = Deno.args): Promise<void> {
  const { values, given } = parseCommand(demoSpec, argv);
  const file = values.config ? await loadConfigFile(values.config) : undefined;
  const settings: DemoSettings = mergeConfig(D, file, values, given, { flags: demoSpec.flags });
  const summary = await runDemo(settings, {
    log: (line) => console.error(line),
    quiet: values.json,
    reportOnly: values.reportOnly,
  });
  if (values.json) {
    emitJson({
      out: summary.out,
      report_md: summary.report.markdown,
      report_html: summary.report.html,
      total_seconds: summary.totalSeconds,
      adapter: summary.adapter,
      models: summary.models.map((m) => ({
        id: m.id,
        arm: m.arm,
        seed: m.seed,
        params: m.params,
        test_ppl: m.testPpl,
        test_nll: m.testNll,
        train_seconds: m.trainSeconds,
      })),
    });
  } else {
    const best = [...summary.models].sort((a, b) => a.testPpl - b.testPpl).slice(0, 3);
    console.log(
      `\nDemo finished in ${summary.totalSeconds.toFixed(0)} s. Lowest test perplexities: ` +
        best.map((m) => `${m.id} ${m.testPpl.toFixed(1)}`).join(", ") + ".",
    );
    console.log(`Report: ${summary.report.html} (self-contained) and ${summary.report.markdown}`);
  }
}

if (import.meta.main) await runMain(() => main(), { permissionHints: demoPermissionHints });
