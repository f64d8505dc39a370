// Bundles the commissioning console (src/console/web) into dist/console/ with
// esbuild: one hashed JS and CSS file and an index.html that loads them. No
// CDN, nothing fetched at run time. `npm run build` runs it after tsc.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CONSOLE_SRC = path.join(ROOT, 'src', 'console', 'web');
export const CONSOLE_OUT = path.join(ROOT, 'dist', 'console');

/**
 * esbuild strips types without checking them, and the root tsconfig has no
 * DOM types: the page is checked against its own tsconfig (DOM, Preact JSX).
 * Throws with tsc's output on a type error.
 */
export function typecheckConsole(): void {
  const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
  try {
    execFileSync(tsc, ['--noEmit', '-p', path.join(CONSOLE_SRC, 'tsconfig.json')], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (e) {
    const out = e as { stdout?: string; stderr?: string };
    throw new Error(`console sources do not typecheck:\n${out.stdout ?? ''}${out.stderr ?? ''}`);
  }
}

export async function buildConsole(outDir = CONSOLE_OUT): Promise<{ js: string; css: string; bytes: number }> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(CONSOLE_SRC, 'main.tsx'), style: path.join(CONSOLE_SRC, 'style.css') },
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: outDir,
    metafile: true,
    logLevel: 'warning',
    // The client falls back to the `ws` package only in Node (no global WebSocket); never in a browser.
    external: ['ws'],
    tsconfig: path.join(CONSOLE_SRC, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
  const js = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
  const css = outputs.find((f) => f.startsWith('style-') && f.endsWith('.css'));
  if (!js || !css) throw new Error(`console build produced ${outputs.join(', ')}; expected a .js and a .css`);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Room console</title>
<link rel="stylesheet" href="/console/${css}">
<script type="module" src="/console/${js}"></script>
</head>
<body>
<div id="app"><noscript>The room console needs JavaScript.</noscript></div>
</body>
</html>
`;
  fs.writeFileSync(path.join(outDir, 'index.html'), html);
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { js, css, bytes };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  typecheckConsole();
  const r = await buildConsole();
  console.log(`console built: dist/console/${r.js}, ${r.css} (${Math.round(r.bytes / 1024)} KiB with source maps)`);
}
