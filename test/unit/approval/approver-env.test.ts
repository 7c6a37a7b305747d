import { describe, expect, it } from 'vitest';
import { buildDialogEnv, buildProgramEnv, TRUSTED_BIN_DIRS } from '../../../src/approval/approver-env.js';

const hostile = {
  DISPLAY: ':0',
  WAYLAND_DISPLAY: 'wayland-0',
  XAUTHORITY: '/home/u/.Xauthority',
  LANG: 'de_DE.UTF-8',
  LC_ALL: 'de_DE.UTF-8',
  HOME: '/tmp/agent-home',
  PATH: '/tmp/evil:/usr/bin',
  ZENITY_CANCEL: '0',
  ZENITY_TIMEOUT: '0',
  GTK_MODULES: 'evil',
  GTK_THEME: 'Hidden',
  QT_PLUGIN_PATH: '/tmp/evil',
  LD_PRELOAD: '/tmp/evil.so',
  DYLD_INSERT_LIBRARIES: '/tmp/evil.dylib',
  NODE_OPTIONS: '--require /tmp/evil.js',
  PYTHONPATH: '/tmp/evil',
  BASH_ENV: '/tmp/evil.sh',
  'BASH_FUNC_ls%%': '() { :; }',
  AGENT_SECRET_APPROVAL_ID: 'forged',
  FAKE_APPROVER_LOG: '/tmp/log',
  EMPTY: undefined,
};

describe('buildDialogEnv', () => {
  it('keeps only display, session and locale facts; HOME and PATH come from us', () => {
    expect(buildDialogEnv(hostile, { home: '/home/u', path: TRUSTED_BIN_DIRS })).toEqual({
      DISPLAY: ':0',
      WAYLAND_DISPLAY: 'wayland-0',
      XAUTHORITY: '/home/u/.Xauthority',
      LANG: 'de_DE.UTF-8',
      LC_ALL: 'de_DE.UTF-8',
      HOME: '/home/u',
      PATH: '/usr/bin:/bin:/usr/local/bin:/run/current-system/sw/bin:/snap/bin',
    });
  });
});

describe('buildProgramEnv', () => {
  it('drops loader, interpreter and dialog variables, pins PATH and sets the approval id', () => {
    const env = buildProgramEnv(hostile, { approvalId: 'req_1', nodeDir: '/opt/node/bin' });
    expect(env).toEqual({
      DISPLAY: ':0',
      WAYLAND_DISPLAY: 'wayland-0',
      XAUTHORITY: '/home/u/.Xauthority',
      LANG: 'de_DE.UTF-8',
      LC_ALL: 'de_DE.UTF-8',
      HOME: '/tmp/agent-home',
      FAKE_APPROVER_LOG: '/tmp/log',
      PATH: `/opt/node/bin:${TRUSTED_BIN_DIRS.join(':')}`,
      AGENT_SECRET_APPROVAL_ID: 'req_1',
    });
  });
});
