import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FIFO_READS, defaultFileMode, fileDeliveryOf, MAX_FILE_READS, templateFileName, validateFileName, validateMaxReads } from '../../../src/core/delivery.js';

describe('validateFileName', () => {
  it.each(['kubeconfig', 'id_ed25519', '.npmrc', 'service-account.json', 'a'.repeat(128)])('allows %s', (name) => {
    expect(validateFileName(name)).toEqual({ ok: true });
  });
  it.each(['', '.', '..', 'a/b', '../x', 'a b', 'a\nb', 'ké', 'a'.repeat(129)])('refuses %j', (name) => {
    expect(validateFileName(name).ok).toBe(false);
  });
  it('never allows a path separator or a NUL, whatever the name', () => {
    fc.assert(fc.property(fc.string(), (name) => !(validateFileName(name).ok && (name.includes('/') || name.includes('\0') || name === '..'))));
  });
});

describe('fileDeliveryOf', () => {
  it('defaults: a regular file on Linux, a FIFO read once on macOS', () => {
    expect(defaultFileMode('linux')).toBe('file');
    expect(defaultFileMode('darwin')).toBe('fifo');
    expect(fileDeliveryOf({}, { name: 'KUBECONFIG', platform: 'linux' })).toEqual({ ok: true, delivery: { name: 'KUBECONFIG', mode: 'file', maxReads: null } });
    expect(fileDeliveryOf({}, { name: 'KUBECONFIG', platform: 'darwin' })).toEqual({ ok: true, delivery: { name: 'KUBECONFIG', mode: 'fifo', maxReads: DEFAULT_FIFO_READS } });
  });

  it('takes the name, mode and read limit given', () => {
    expect(fileDeliveryOf({ name: 'config', mode: 'fifo', maxReads: 3 }, { name: 'X', platform: 'linux' })).toEqual({ ok: true, delivery: { name: 'config', mode: 'fifo', maxReads: 3 } });
    expect(fileDeliveryOf({ mode: 'file' }, { name: 'X', platform: 'darwin' })).toEqual({ ok: true, delivery: { name: 'X', mode: 'file', maxReads: null } });
  });

  it.each<[string, Parameters<typeof fileDeliveryOf>[0], string]>([
    ['a read limit on a regular file', { mode: 'file', maxReads: 2 }, 'needs mode: fifo'],
    ['a read limit of 0', { mode: 'fifo', maxReads: 0 }, 'max_reads'],
    ['a read limit above the maximum', { mode: 'fifo', maxReads: MAX_FILE_READS + 1 }, 'max_reads'],
    ['a fractional read limit', { mode: 'fifo', maxReads: 1.5 }, 'max_reads'],
    ['a name with a slash', { name: 'a/b' }, 'file name'],
    ['an unknown mode', { mode: 'socket' as 'file' }, 'mode must be'],
  ])('refuses %s', (_name, options, message) => {
    const result = fileDeliveryOf(options, { name: 'X', platform: 'linux' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it('validateMaxReads accepts exactly the whole numbers 1..MAX_FILE_READS', () => {
    fc.assert(fc.property(fc.double(), (n) => validateMaxReads(n).ok === (Number.isInteger(n) && n >= 1 && n <= MAX_FILE_READS)));
  });
});

describe('templateFileName', () => {
  it.each([
    ['npmrc.tmpl', 'NPMRC', 'npmrc'],
    ['.npmrc.tmpl', 'NPMRC', '.npmrc'],
    ['kubeconfig.template', 'K', 'kubeconfig'],
    ['config.TPL', 'K', 'config'],
    ['settings.json', 'K', 'settings.json'],
    ['my config.tmpl', 'MY_CONFIG', 'MY_CONFIG'],
  ])('%s → %s', (base, alias, expected) => {
    expect(templateFileName(base, alias)).toBe(expected);
  });
});
