import assert from "node:assert/strict";
import { type CommandSpec, editDistance, helpText, parseFlags, UsageError } from "../../lib/cli/args.ts";

const spec = {
  name: "train",
  summary: "Train GPT-2 on a tokenized dataset.",
  usage: "deno task train [flags]",
  flags: {
    steps: { type: "int", description: "optimizer steps", default: 100, min: 1, max: 1_000_000 },
    lr: { type: "float", description: "peak learning rate", default: 3e-4, min: 0, exclusiveMin: true },
    "weight-decay": { type: "float", description: "AdamW weight decay", default: 0.1, min: 0 },
    shift: { type: "int", description: "a signed integer" },
    device: { type: "string", description: "where to run", default: "gpu", choices: ["gpu", "cpu"] },
    out: { type: "string", description: "output directory", placeholder: "DIR" },
    "no-shuffle": { type: "boolean", description: "read batches in file order" },
    compile: { type: "boolean", description: "compile shaders ahead", default: true },
  },
  examples: ["deno task train --steps 10 --lr 1e-3", "deno task train --device cpu --no-shuffle"],
} satisfies CommandSpec;

function usageError(argv: string[], pattern: RegExp): void {
  assert.throws(() => parseFlags(spec, argv), (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), `message must be one line: ${err.message}`);
    return true;
  });
}

Deno.test("parseFlags() returns defaults with camelCase keys when no flags are given", () => {
  const { help, values, given, positionals } = parseFlags(spec, []);
  assert.equal(help, false);
  assert.deepEqual(values, {
    steps: 100,
    lr: 3e-4,
    weightDecay: 0.1,
    shift: undefined,
    device: "gpu",
    out: undefined,
    noShuffle: false,
    compile: true,
  });
  assert.equal(given.size, 0);
  assert.deepEqual(positionals, []);
});

Deno.test("parseFlags() converts values and records the flags given explicitly", () => {
  const { values, given } = parseFlags(spec, [
    "--steps",
    "25",
    "--lr=1e-3",
    "--weight-decay",
    "0",
    "--shift",
    "-3",
    "--device",
    "cpu",
    "--out",
    "runs/a b",
    "--no-shuffle",
  ]);
  // Typed result: these assignments would not compile if the mapped type were wrong.
  const steps: number = values.steps;
  const shift: number | undefined = values.shift;
  const noShuffle: boolean = values.noShuffle;
  const out: string | undefined = values.out;
  // @ts-expect-error --steps is an int flag, so its value is a number, not a string
  const wrong: string = values.steps;
  // @ts-expect-error there is no flag named --colour
  void values.colour;
  assert.equal(typeof wrong, "number");
  assert.equal(steps, 25);
  assert.equal(values.lr, 1e-3);
  assert.equal(values.weightDecay, 0);
  assert.equal(shift, -3);
  assert.equal(values.device, "cpu");
  assert.equal(out, "runs/a b");
  assert.equal(noShuffle, true);
  assert.equal(values.compile, true);
  assert.deepEqual([...given].sort(), ["device", "lr", "noShuffle", "out", "shift", "steps", "weightDecay"]);
});

Deno.test("parseFlags() types a string flag with `as const` choices as the union of the choices", () => {
  const constSpec = {
    name: "sample",
    summary: "",
    usage: "",
    flags: { device: { type: "string", description: "", default: "gpu", choices: ["gpu", "cpu"] } },
    examples: [],
  } as const satisfies CommandSpec;
  const device: "gpu" | "cpu" = parseFlags(constSpec, ["--device", "cpu"]).values.device;
  assert.equal(device, "cpu");
});

Deno.test("parseFlags() keeps the last value of a repeated flag and accepts integer scientific notation", () => {
  assert.equal(parseFlags(spec, ["--steps", "5", "--steps", "7"]).values.steps, 7);
  assert.equal(parseFlags(spec, ["--steps", "1e3"]).values.steps, 1000);
});

Deno.test("parseFlags() rejects unknown flags, suggesting a close name", () => {
  usageError(["--foo"], /^unknown flag --foo for train; see --help$/);
  usageError(["--stpes", "3"], /^unknown flag --stpes for train \(did you mean --steps\?\); see --help$/);
  usageError(["-s", "3"], /^unknown flag -s for train/);
});

Deno.test("parseFlags() rejects values of the wrong type", () => {
  usageError(["--steps", "abc"], /^--steps expects an integer, got 'abc'$/);
  usageError(["--steps", "1.5"], /^--steps expects an integer, got '1.5'$/);
  usageError(["--steps", ""], /^--steps expects an integer, got ''$/);
  usageError(["--lr", "fast"], /^--lr expects a number, got 'fast'$/);
  usageError(["--lr", "Infinity"], /^--lr expects a number/);
  usageError(["--lr", "0x10"], /^--lr expects a number/);
});

Deno.test("parseFlags() rejects out-of-range values", () => {
  usageError(["--lr", "-1"], /^--lr must be > 0, got -1$/);
  usageError(["--lr", "0"], /^--lr must be > 0, got 0$/);
  usageError(["--steps", "0"], /^--steps must be >= 1, got 0$/);
  usageError(["--steps", "2000000"], /^--steps must be <= 1000000, got 2000000$/);
  usageError(["--weight-decay=-0.5"], /^--weight-decay must be >= 0, got -0.5$/);
  assert.equal(parseFlags(spec, ["--steps", "1"]).values.steps, 1);
});

Deno.test("parseFlags() rejects values outside the choices", () => {
  usageError(["--device", "tpu"], /^--device must be one of gpu, cpu; got 'tpu'$/);
});

Deno.test("parseFlags() rejects a missing value and positional arguments", () => {
  usageError(["--steps"], /^--steps expects a value \(--steps N\)/);
  usageError(["--out", "--no-shuffle"], /^--out expects a value \(--out DIR\)/);
  usageError(["extra"], /^unexpected argument 'extra' for train; see --help$/);
  usageError(["--no-shuffle", "extra"], /^unexpected argument 'extra'/);
});

Deno.test("parseFlags() takes booleans as switches, with an optional inline true/false", () => {
  assert.equal(parseFlags(spec, ["--no-shuffle"]).values.noShuffle, true);
  assert.equal(parseFlags(spec, ["--compile=false"]).values.compile, false);
  assert.equal(parseFlags(spec, ["--compile=true"]).values.compile, true);
  usageError(["--compile=maybe"], /^--compile is a switch/);
  // A switch does not swallow the next argument.
  usageError(["--no-shuffle", "false"], /^unexpected argument 'false'/);
});

Deno.test("parseFlags() accepts positionals only when the spec declares them", () => {
  const withFiles = {
    ...spec,
    positionals: { name: "FILE...", description: "text files to tokenize", min: 1, max: 2 },
  } satisfies CommandSpec;
  const parsed = parseFlags(withFiles, ["a.txt", "--steps", "3", "b.txt"]);
  assert.deepEqual(parsed.positionals, ["a.txt", "b.txt"]);
  assert.equal(parsed.values.steps, 3);
  assert.throws(() => parseFlags(withFiles, []), /needs at least 1 FILE\.\.\. argument/);
  assert.throws(() => parseFlags(withFiles, ["a", "b", "c"]), /takes at most 2 FILE\.\.\. argument/);
  assert.deepEqual(parseFlags(withFiles, ["--", "--odd-name"]).positionals, ["--odd-name"]);
});

Deno.test("parseFlags() returns help for --help or -h, even next to a bad flag", () => {
  for (const argv of [["--help"], ["-h"], ["--bogus", "--help"], ["--steps", "abc", "-h"]]) {
    const parsed = parseFlags(spec, argv);
    assert.equal(parsed.help, true, argv.join(" "));
    assert.equal(parsed.values.steps, 100);
  }
});

Deno.test("parseFlags() throws a plain Error for an inconsistent spec", () => {
  const bad = (flags: CommandSpec["flags"]) => () => parseFlags({ ...spec, flags }, []);
  assert.throws(bad({ help: { type: "boolean", description: "x" } }), (e) => !(e instanceof UsageError));
  assert.throws(bad({ batchSize: { type: "int", description: "x" } }), /not kebab-case/);
  assert.throws(
    bad({ n: { type: "int", description: "x", default: 0, min: 1 } }),
    /default of --n must be >= 1/,
  );
});

Deno.test("editDistance() counts insertions, deletions, substitutions and adjacent swaps as one edit", () => {
  assert.equal(editDistance("steps", "steps"), 0);
  assert.equal(editDistance("stpes", "steps"), 1);
  assert.equal(editDistance("step", "steps"), 1);
  assert.equal(editDistance("stops", "steps"), 1);
  assert.equal(editDistance("", "lr"), 2);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

Deno.test("helpText() shows usage, summary, every flag with defaults and ranges, and the examples", () => {
  const text = helpText(spec);
  assert.match(text, /^Usage: deno task train \[flags\]\n\nTrain GPT-2 on a tokenized dataset\.\n/);
  assert.match(text, /--steps N +optimizer steps \(default 100; 1 ≤ N ≤ 1000000\)/);
  assert.match(text, /--lr X +peak learning rate \(default 0\.0003; X > 0\)/);
  assert.match(text, /--device gpu\|cpu +where to run \(default "gpu"\)/);
  assert.match(text, /--out DIR +output directory\n/);
  assert.match(text, /--no-shuffle +read batches in file order\n/);
  assert.match(text, /--weight-decay X +AdamW weight decay \(default 0\.1; X ≥ 0\)/);
  assert.match(text, /--compile +compile shaders ahead \(default true\)/);
  assert.match(text, /-h, --help +show this help/);
  assert.match(
    text,
    /Examples:\n {2}deno task train --steps 10 --lr 1e-3\n {2}deno task train --device cpu --no-shuffle$/,
  );
});
