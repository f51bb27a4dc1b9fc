/**
 * Runs a script in a child `deno run` with the running executable, as the task tests do.
 *
 * @module
 */

/** Exit code and captured output of a child process. */
export interface DenoRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `deno run ARGS` (permission flags, script, its arguments); XDG_RUNTIME_DIR is set so that loading Mesa's
 * Vulkan driver prints no libwayland warning into the captured stderr.
 */
export async function denoRun(args: string[]): Promise<DenoRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { XDG_RUNTIME_DIR: "/tmp" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
