import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testHookTraces } from './check-release';

describe('the release bundle check', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('finds a test hook in any script of the bundle, and passes one without', () => {
    const dir = mkdtempSync(join(tmpdir(), 'release-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<script type="module" src="/assets/index.js"></script>');
    writeFileSync(join(dir, 'assets', 'index.js'), 'const a=1;');
    expect(testHookTraces(dir)).toEqual([]);
    writeFileSync(join(dir, 'assets', 'test-hooks.js'), 'function i(t){t.__subjectStudio=h;t.__maskEditor=m}');
    expect(testHookTraces(dir)).toEqual([{ file: join(dir, 'assets', 'test-hooks.js'), names: ['__subjectStudio', '__maskEditor'] }]);
  });
});
