// Layer unpack: berth's extract (TS validation stream -> GNU tar) vs plain `tar -xf` of the same
// uncompressed layer, and the same for gzip (node zlib vs `tar -xzf`). Prints medians and ratios.
// Run: node --import tsx bench/layer-unpack.ts [--mb 150] [--runs 3]
import { createReadStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractLayer } from '../src/storage/index.js';
import { run } from '../src/util/index.js';

const args = process.argv.slice(2);
const argOf = (flag: string, dflt: number) => {
  const i = args.indexOf(flag);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const targetBytes = argOf('--mb', 150) * 1024 * 1024;
const runs = argOf('--runs', 3);
const TIMEOUT = 10 * 60_000;

/** Paths under /usr (dirs before their contents) until `targetBytes` of file data. */
async function pickFiles(): Promise<string[]> {
  const out: string[] = [];
  let bytes = 0;
  async function walk(rel: string): Promise<boolean> {
    const names = (await readdir(join('/', rel))).sort();
    for (const name of names) {
      const p = `${rel}/${name}`;
      const st = await lstat(join('/', p));
      out.push(p);
      if (st.isDirectory()) {
        if (await walk(p)) return true;
      } else if (st.isFile()) {
        bytes += st.size;
        if (bytes >= targetBytes) return true;
      }
    }
    return false;
  }
  await walk('usr');
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-unpack-'));
  try {
    const list = join(work, 'files');
    await writeFile(list, (await pickFiles()).join('\0') + '\0');
    const layer = join(work, 'layer.tar');
    await run('tar', ['-cf', layer, '-C', '/', '--numeric-owner', '--xattrs', '--no-recursion', '--null', '-T', list], { timeoutMs: TIMEOUT });
    await run('gzip', ['-k', '-1', layer], { timeoutMs: TIMEOUT });
    const size = (await lstat(layer)).size;
    console.log(`layer: ${(size / 1048576).toFixed(1)} MB uncompressed tar of /usr files, ${runs} runs each, medians`);

    const gnuFlags = ['--numeric-owner', '--same-owner', '-p', '--xattrs', '--xattrs-include=*'];
    let n = 0;
    const fresh = async () => {
      const d = join(work, `out-${n++}`);
      await mkdir(d);
      return d;
    };
    const results: Record<string, number[]> = { tar: [], berth: [], 'tar -z': [], 'berth gzip': [] };
    for (let i = 0; i < runs; i++) {
      for (const [label, fn] of [
        ['tar', (d: string) => run('tar', ['-xf', layer, '-C', d, ...gnuFlags], { timeoutMs: TIMEOUT })],
        ['berth', (d: string) => extractLayer(createReadStream(layer, { highWaterMark: 1 << 20 }), d)],
        ['tar -z', (d: string) => run('tar', ['-xzf', `${layer}.gz`, '-C', d, ...gnuFlags], { timeoutMs: TIMEOUT })],
        ['berth gzip', (d: string) => extractLayer(createReadStream(`${layer}.gz`, { highWaterMark: 1 << 20 }), d)],
      ] as const) {
        // Nothing is deleted until the end: on ext4 without a journal, files created within
        // ~30 s of a big delete pay for scanning the freed inodes, whichever program makes them.
        const d = await fresh();
        results[label]!.push(await timed(() => fn(d)));
      }
    }
    const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
    const best = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, Math.min(...v)]));
    for (const [k, v] of Object.entries(m)) {
      console.log(`${k.padEnd(11)} median ${v.toFixed(0).padStart(6)} ms (${((size / 1048576) / (v / 1000)).toFixed(0)} MB/s), best ${best[k]!.toFixed(0)} ms`);
    }
    console.log(`ratio berth/tar (uncompressed): median ${(m.berth! / m.tar!).toFixed(2)}x, best ${(best.berth! / best.tar!).toFixed(2)}x  (target <= 1.5x)`);
    console.log(`ratio berth/tar (gzip):         median ${(m['berth gzip']! / m['tar -z']!).toFixed(2)}x, best ${(best['berth gzip']! / best['tar -z']!).toFixed(2)}x`);
    console.log(`load average during the run: ${(await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')} (2 cores shared: ratios drift up under load)`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
