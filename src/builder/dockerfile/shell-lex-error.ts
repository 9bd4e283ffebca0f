// The error the shell lexer throws for bad syntax or a failed `${VAR:?}`.

export class ShellLexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellLexError';
  }
}
