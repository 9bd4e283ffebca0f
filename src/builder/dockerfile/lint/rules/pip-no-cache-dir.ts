import { matchCommand, runScript, splitCommands } from '../shell-commands.js';
import { berthUrl, type LintRule } from '../rule.js';

const PIP = /^pip[0-9.]*$/;

function isPipInstall(c: readonly string[]): boolean {
  if (matchCommand(c, PIP, 'install')) return true;
  // python -m pip install
  const m = c.indexOf('-m');
  return m >= 0 && /^python[0-9.]*$/.test(c[0]?.split('/').pop() ?? '') && PIP.test(c[m + 1] ?? '') && c.slice(m + 2).includes('install');
}

export const pipNoCacheDir: LintRule = {
  id: 'PipNoCacheDir',
  description: 'pip install should use --no-cache-dir so the download cache does not end up in the layer',
  url: berthUrl('PipNoCacheDir'),
  severity: 'warning',
  message: () => 'pip install without --no-cache-dir stores its download cache in the layer',
  check({ df }, report) {
    for (const s of df.stages) {
      let envOff = false;
      for (const i of s.instructions) {
        if (i.kind === 'env' && i.env.some((kv) => kv.key === 'PIP_NO_CACHE_DIR')) envOff = true;
        if (i.kind !== 'run' || envOff) continue;
        if (i.mountSpecs.some((m) => /type=cache/.test(m))) continue;
        for (const c of splitCommands(runScript(i))) {
          if (isPipInstall(c) && !c.includes('--no-cache-dir')) {
            report(i.startLine);
            break;
          }
        }
      }
    }
  },
};
