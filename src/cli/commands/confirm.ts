// docker's "Are you sure you want to continue? [y/N]" prompt, read from stdin.
import { createInterface } from 'node:readline';

export async function confirm(ctx: { stdout: NodeJS.WriteStream }, warning: string): Promise<boolean> {
  ctx.stdout.write(`${warning}\nAre you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: process.stdin });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
