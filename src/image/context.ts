// The build context of cellctl's image: cellctl's own package folder (where this module is
// installed, whatever the working folder), or for `--deps context` a temporary folder of hard links
// (copies across file systems) to its sources and its node_modules, made and removed here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { failure } from '../shared/errors.js';
import type { ImageBuildPlan } from './plan.js';

/** cellctl's package folder: dist/image/ is two levels below it. */
export const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

export function packageVersion(dir = PACKAGE_DIR): string {
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface BuildContext {
  dir: string;
  /** Removes the folder when it was made for this build; the package folder itself is kept. */
  remove(): void;
}

/** The context folder for `plan`; refuses (one line) when the package folder lacks what the build needs. */
export function prepareContext(plan: ImageBuildPlan, packageDir = PACKAGE_DIR): BuildContext {
  const missing = plan.contextEntries.filter((entry) => !fs.existsSync(path.join(packageDir, entry)));
  if (missing.length > 0) {
    const why = missing.includes('node_modules')
      ? '--deps context sends the node_modules installed there (run npm ci in it first)'
      : 'the image is built from a checkout of cellctl';
    throw failure(`${packageDir} has no ${missing.join(', ')}: ${why}`);
  }
  if (plan.deps === 'install') return { dir: packageDir, remove() {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cellctl-image-'));
  try {
    for (const entry of plan.contextEntries) linkTree(fs.realpathSync(path.join(packageDir, entry)), path.join(dir, entry));
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Recreates `from` at `to`: folders made, symbolic links kept as links, files hard-linked (copied where a link cannot reach). */
function linkTree(from: string, to: string): void {
  const stat = fs.lstatSync(from);
  if (stat.isDirectory()) {
    fs.mkdirSync(to);
    for (const entry of fs.readdirSync(from)) linkTree(path.join(from, entry), path.join(to, entry));
  } else if (stat.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(from), to);
  } else if (stat.isFile()) {
    try {
      fs.linkSync(from, to);
    } catch {
      fs.copyFileSync(from, to);
    }
  }
}
