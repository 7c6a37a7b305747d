// doctor's Touch ID line: checkTouchId never prompts and tells a missing native module (npm 11
// skipped node-mac-auth's build) from a Mac that cannot prompt; the missing module gets the fix.

import { describe, expect, it } from 'vitest';
import { checkTouchId } from '../../../src/approval/index.js';
import { TOUCH_ID_FIX, touchIdCheck } from '../../../src/cli/commands/doctor.js';

describe('checkTouchId', () => {
  it('is not-darwin off macOS, without loading anything', async () => {
    let loaded = false;
    expect(await checkTouchId('linux', async () => ((loaded = true), null))).toBe('not-darwin');
    expect(loaded).toBe(false);
  });

  it('tells a module that did not load from one that cannot prompt', async () => {
    expect(await checkTouchId('darwin', async () => null)).toBe('module-missing');
    expect(await checkTouchId('darwin', async () => Promise.reject(new Error('dlopen failed')))).toBe('module-missing');
    expect(await checkTouchId('darwin', async () => ({ available: () => false }))).toBe('cannot-prompt');
    expect(await checkTouchId('darwin', async () => ({ available: () => true }))).toBe('available');
  });
});

describe('touchIdCheck', () => {
  it('a missing module is a warning with the npm fix', () => {
    const check = touchIdCheck('module-missing')!;
    expect(check.status).toBe('warn');
    expect(check.detail).toContain('node-mac-auth did not build');
    expect(check.hint).toBe(TOUCH_ID_FIX);
    expect(TOUCH_ID_FIX).toContain('npm install -g --allow-scripts=node-mac-auth agent-secret');
  });

  it('no line off macOS, ok when available, a warning when the Mac cannot prompt', () => {
    expect(touchIdCheck('not-darwin')).toBeNull();
    expect(touchIdCheck('available')!.status).toBe('ok');
    expect(touchIdCheck('cannot-prompt')!.status).toBe('warn');
  });
});
