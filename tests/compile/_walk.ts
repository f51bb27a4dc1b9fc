/** Files under a folder whose names end with `suffix`, recursively, in a stable (sorted) order. */
export async function* walk(dir: string, suffix: string): AsyncGenerator<string> {
  const entries = [];
  for await (const e of Deno.readDir(dir)) entries.push(e);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(path, suffix);
    else if (e.isFile && e.name.endsWith(suffix)) yield path;
  }
}
