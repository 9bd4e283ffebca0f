import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { probeX32Abi, x32FromConfig } from './x32-abi.js';

test('a kernel config without the x32 ABI says no, one with it says yes', () => {
  assert.equal(x32FromConfig('CONFIG_IA32_EMULATION=y\n# CONFIG_X86_X32_ABI is not set\n', ''), false);
  assert.equal(x32FromConfig('CONFIG_X86_X32_ABI=y\n', ''), true);
  // Kernels before 5.x named it CONFIG_X86_X32.
  assert.equal(x32FromConfig('CONFIG_X86_X32=y\n', ''), true);
});

test("Debian's disabled-by-default x32 is on only when the command line turns it on", () => {
  const debian = 'CONFIG_X86_X32=y\nCONFIG_X86_X32_DISABLED=y\n';
  assert.equal(x32FromConfig(debian, 'BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet'), false);
  assert.equal(x32FromConfig(debian, 'root=/dev/sda1 syscall.x32=y quiet'), true);
});

test('the probe reads a gzipped config, falls back to the symbol table, and assumes x32 when nothing tells', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-x32-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cmdline = join(dir, 'cmdline');
  await writeFile(cmdline, 'quiet\n');
  const gz = join(dir, 'config.gz');
  await writeFile(gz, gzipSync('# CONFIG_X86_X32_ABI is not set\n'));
  assert.equal(await probeX32Abi({ arch: 'x64', configs: [join(dir, 'absent'), gz], cmdline }), false);
  const syms = join(dir, 'kallsyms');
  await writeFile(syms, 'ffffffff81000000 T _stext\nffffffff81a00000 T x32_sys_call\n');
  assert.equal(await probeX32Abi({ arch: 'x64', configs: [], cmdline, kallsyms: syms }), true);
  await writeFile(syms, 'ffffffff81000000 T _stext\nffffffff81a00000 T get_old_timex32\n');
  assert.equal(await probeX32Abi({ arch: 'x64', configs: [], cmdline, kallsyms: syms }), false);
  assert.equal(await probeX32Abi({ arch: 'x64', configs: [], cmdline, kallsyms: join(dir, 'absent') }), true);
  // Only x86-64 has the ABI.
  assert.equal(await probeX32Abi({ arch: 'arm64' }), false);
});
