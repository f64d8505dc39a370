// Replaces a file so that a crash or a power cut at any moment leaves either
// the old or the new content, never a torn mix: the new text goes to a
// temporary file in the same folder (same filesystem, so rename is atomic),
// is fsynced, renamed over the target, and the folder is fsynced so the
// rename itself is on disk. The replacement keeps the mode and, where the
// process may set it, the group of the file it replaces (an admin-edited
// /etc/room-agent/api.toml is root:room-agent 0640).
import fs from 'node:fs';
import path from 'node:path';

/** Temporary files this module leaves behind only when the process dies mid-write. */
export const TEMP_FILE = /^\..+\.\d+\.\d+\.tmp$/;

let counter = 0;

function tempName(file: string): string {
  counter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${counter}.tmp`);
}

export function writeFileAtomic(file: string, text: string): void {
  let mode = 0o640;
  let gid: number | null = null;
  try {
    const st = fs.statSync(file);
    mode = st.mode & 0o777;
    gid = st.gid;
  } catch {
    // a new file: 0640
  }
  const tmp = tempName(file);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, text);
    fs.fchmodSync(fd, mode); // the umask may have narrowed the mode given to open
    if (gid !== null) {
      try {
        fs.fchownSync(fd, -1, gid);
      } catch {
        // not a member of that group: the file keeps the process's group
      }
    }
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Removes temporary files a killed writer left next to `file`; returns their names. */
export function removeStaleTempFiles(file: string): string[] {
  const base = `.${path.basename(file)}.`;
  const dir = path.dirname(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => n.startsWith(base) && TEMP_FILE.test(n));
  for (const n of stale) fs.rmSync(path.join(dir, n), { force: true });
  return stale;
}
