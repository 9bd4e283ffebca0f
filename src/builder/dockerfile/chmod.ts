// `COPY/ADD --chmod`: octal up to 07777 or a symbolic mode, with BuildKit's message.

export class ChmodError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChmodError';
  }
}

/** `--chmod` value: octal up to 07777 (BuildKit's message otherwise). Symbolic modes are returned as is. */
export function parseChmod(value: string): { mode: number } | { symbolic: string } {
  if (/^[0-7]+$/.test(value)) {
    const n = Number.parseInt(value, 8);
    if (n <= 0o7777) return { mode: n };
  } else if (/^(?:[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+|[-+=](?:[rwxXst]*|[ugo]))(?:,(?:[ugoa]*(?:[-+=](?:[rwxXst]*|[ugo]))+))*$/.test(value)) {
    return { symbolic: value };
  }
  throw new ChmodError(`invalid chmod parameter: '${value}'. it should be octal string and between 0 and 07777`);
}
