// berth build's progress displays: BuildKit-like plain lines (`#3 [b 2/7] RUN …`, CACHED,
// DONE 0.3s, miss reasons) and a live tty view that redraws the running steps in place.
import type { BuildProgressWire } from '../../client/index.js';
import { humanSize } from '../format/units.js';

export interface ProgressSink {
  on(e: BuildProgressWire): void;
  end(): void;
}

export type Mode = 'plain' | 'tty' | 'quiet';

/** Renders berth's structured progress like BuildKit's plain output. */
export class PlainProgress implements ProgressSink {
  private readonly ids = new Map<number, number>();
  private next = 1;
  private readonly logs = new Map<number, string[]>();
  constructor(
    private readonly write: (s: string) => void,
    private readonly mode: Mode,
    private readonly explain: boolean,
  ) {}

  private idOf(step: number): number {
    let id = this.ids.get(step);
    if (id === undefined) {
      id = ++this.next;
      this.ids.set(step, id);
    }
    return id;
  }

  end(): void {}

  on(e: BuildProgressWire): void {
    if (this.mode === 'quiet') return;
    switch (e.type) {
      case 'context':
        this.write(`#1 [internal] load build context\n#1 transferring context: ${humanSize(e.bytes)} (${e.files} entries) done ${(e.durationMs / 1000).toFixed(1)}s\n#1 DONE ${(e.durationMs / 1000).toFixed(1)}s\n\n`);
        break;
      case 'step-start': {
        const id = this.idOf(e.ref.step);
        const label = e.ref.stageName ? `${e.ref.stageName} ${e.ref.step}/${e.ref.total}` : `${e.ref.step}/${e.ref.total}`;
        this.write(`#${id} [${label}] ${e.ref.text}\n`);
        break;
      }
      case 'step-cached':
        this.write(`#${this.idOf(e.ref.step)} CACHED\n`);
        break;
      case 'step-miss':
        if (this.mode === 'plain' || this.explain) this.write(`#${this.idOf(e.ref.step)} cache miss: ${e.reason}\n`);
        break;
      case 'step-log': {
        const id = this.idOf(e.ref.step);
        const lines = e.data.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
        if (this.mode === 'plain') for (const l of lines) this.write(`#${id} ${l}\n`);
        else {
          const kept = this.logs.get(id) ?? [];
          kept.push(...lines);
          this.logs.set(id, kept.slice(-10));
        }
        break;
      }
      case 'step-done':
        if (!e.cached) this.write(`#${this.idOf(e.ref.step)} DONE ${(e.durationMs / 1000).toFixed(1)}s\n`);
        this.write('\n');
        break;
      case 'step-error': {
        const id = this.idOf(e.ref.step);
        for (const l of this.logs.get(id) ?? []) this.write(`#${id} ${l}\n`);
        this.write(`#${id} ERROR: ${e.message}\n`);
        break;
      }
      case 'warning':
        this.write(`WARNING: ${e.message}\n`);
        break;
      case 'result':
        this.write(`#${++this.next} exporting to image\n#${this.next} writing image ${e.imageId} done\n`);
        for (const t of e.tags) this.write(`#${this.next} naming to ${t.includes(':') ? t : `${t}:latest`} done\n`);
        this.write(`#${this.next} DONE (${e.cached} cached, ${e.executed} executed)\n`);
        break;
    }
  }
}

/** Live view for terminals: one line per step, redrawn in place (like BuildKit's tty mode). */
export class TtyProgress implements ProgressSink {
  private readonly steps = new Map<number, { label: string; status: 'running' | 'cached' | 'done' | 'error'; started: number; ms: number; log: string; reason?: string }>();
  private readonly errors: string[] = [];
  private rendered = 0;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private footer: string[] = [];

  constructor(
    private readonly write: (s: string) => void,
    private readonly explain: boolean,
    private readonly columns = process.stderr.columns || 100,
  ) {
    this.timer = setInterval(() => this.render(), 100);
    this.timer.unref();
  }

  on(e: BuildProgressWire): void {
    switch (e.type) {
      case 'context':
        this.footer.push(`=> [internal] load build context ${humanSize(e.bytes)} (${e.files} entries) ${(e.durationMs / 1000).toFixed(1)}s`);
        break;
      case 'step-start': {
        const label = e.ref.stageName ? `${e.ref.stageName} ${e.ref.step}/${e.ref.total}` : `${e.ref.step}/${e.ref.total}`;
        this.steps.set(e.ref.step, { label: `[${label}] ${e.ref.text}`, status: 'running', started: Date.now(), ms: 0, log: '' });
        break;
      }
      case 'step-cached': {
        const s = this.steps.get(e.ref.step);
        if (s) s.status = 'cached';
        break;
      }
      case 'step-miss': {
        const s = this.steps.get(e.ref.step);
        if (s && this.explain) s.reason = e.reason;
        break;
      }
      case 'step-log': {
        const s = this.steps.get(e.ref.step);
        const last = e.data.split('\n').filter(Boolean).pop();
        if (s && last) s.log = last;
        break;
      }
      case 'step-done': {
        const s = this.steps.get(e.ref.step);
        if (s && s.status !== 'cached') {
          s.status = 'done';
          s.ms = e.durationMs;
        }
        break;
      }
      case 'step-error': {
        const s = this.steps.get(e.ref.step);
        if (s) s.status = 'error';
        this.errors.push(e.message);
        break;
      }
      case 'warning':
        this.errors.push(`WARNING: ${e.message}`);
        break;
      case 'result':
        this.footer.push(`=> exporting to image ${e.imageId.slice(7, 19)}${e.tags.length ? ` (${e.tags.join(', ')})` : ''}: ${e.cached} cached, ${e.executed} executed`);
        break;
    }
  }

  private lines(): string[] {
    const out = [`[+] Building ${((Date.now() - this.started) / 1000).toFixed(1)}s (${[...this.steps.values()].filter((s) => s.status !== 'running').length}/${this.steps.size})`];
    out.push(...this.footer.slice(0, 1));
    for (const s of this.steps.values()) {
      const t = s.status === 'running' ? (Date.now() - s.started) / 1000 : s.ms / 1000;
      const head = s.status === 'cached' ? `=> CACHED ${s.label}` : s.status === 'error' ? `=> ERROR ${s.label}` : `=> ${s.label}`;
      const time = s.status === 'cached' ? '' : ` ${t.toFixed(1)}s`;
      out.push(this.fit(head, time));
      if (s.reason) out.push(this.fit(`   cache miss: ${s.reason}`, ''));
      if (s.status === 'running' && s.log) out.push(this.fit(`   ${s.log}`, ''));
    }
    out.push(...this.footer.slice(1));
    return out;
  }

  private fit(text: string, suffix: string): string {
    const room = Math.max(20, this.columns - suffix.length - 1);
    return (text.length > room ? text.slice(0, room - 1) + '…' : text.padEnd(room)) + suffix;
  }

  private render(): void {
    const lines = this.lines();
    let s = this.rendered > 0 ? `\x1b[${this.rendered}F` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    this.write(s);
    this.rendered = lines.length;
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.render();
    for (const e of this.errors) this.write(`${e}\n`);
  }
}

/** The display for a mode: plain lines, the live tty view, or nothing (quiet). */
export function progressView(mode: Mode, write: (s: string) => void, explain: boolean): ProgressSink {
  return mode === 'tty' ? new TtyProgress(write, explain) : new PlainProgress(write, mode, explain);
}
