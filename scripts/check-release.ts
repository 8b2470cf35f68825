/**
 * Fails when a release build (npm run build:release) still carries a test
 * hook: none of their names may appear in any file of the bundle.
 *
 *   tsx scripts/check-release.ts [dist]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names only the test hooks use (src/test-hooks.ts and what it installs). */
export const TEST_HOOK_NAMES = ['__subjectStudio', '__maskEditor', 'installTestHooks'] as const;

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (/\.(m?js|html)$/.test(entry.name)) yield path;
  }
}

/** Each bundle file that names a test hook, with the names it has. */
export function testHookTraces(dir: string): { file: string; names: string[] }[] {
  const out: { file: string; names: string[] }[] = [];
  for (const file of files(dir)) {
    const text = readFileSync(file, 'utf8');
    const names = TEST_HOOK_NAMES.filter((n) => text.includes(n));
    if (names.length) out.push({ file, names });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const dir = process.argv[2] ?? 'dist';
  const traces = testHookTraces(dir);
  if (traces.length) {
    for (const t of traces) console.error(`${t.file}: ${t.names.join(', ')}`);
    console.error(`${dir} is not a release build: it carries the test hooks. Build it with \`npm run build:release\`.`);
    process.exit(1);
  }
  console.log(`${dir}: no test hooks in the bundle`);
}
