/**
 * Atomic file writes: write a temporary file beside the target, then rename it over the target, so a
 * reader (or a crash half-way through) never sees a partly written file.
 *
 * @module
 */

/**
 * Writes `data` to `path` atomically (temporary file in the same folder + rename; both on one file
 * system, so the rename is atomic). Creates the parent folder when missing.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  // A unique name per writer: two processes filling the same cache entry must not share a temp file.
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}
