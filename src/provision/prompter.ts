import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { formatIssues } from '../config/errors.ts';

export type Parsed<T> = { value: T } | { error: string };

/** A zod field as a prompt parser: the installer sees the schema's own message. */
export function viaSchema<T>(schema: z.ZodType<T>): (text: string) => Parsed<T> {
  return (text) => {
    const r = schema.safeParse(text);
    return r.success ? { value: r.data } : { error: formatIssues(r.error.issues)[0]!.replace(/^\(root\): /, '') };
  };
}

/**
 * Questions with a default in brackets, asked again until the answer parses. Lines are read
 * through an async iterator, so answers typed or pasted ahead of a question are kept, not lost
 * (the terminal itself echoes and edits lines: no raw mode, no native module).
 */
export class Prompter {
  private readonly lines: AsyncIterator<string>;
  private readonly close_: () => void;

  constructor(
    input: NodeJS.ReadableStream,
    private readonly out: NodeJS.WritableStream,
  ) {
    const rl = createInterface({ input, terminal: false });
    this.lines = rl[Symbol.asyncIterator]();
    this.close_ = () => rl.close();
  }

  say(text: string): void {
    this.out.write(`${text}\n`);
  }

  async ask<T>(question: string, parse: (text: string) => Parsed<T>, fallback?: string): Promise<T> {
    for (;;) {
      this.out.write(`${question}${fallback ? ` [${fallback}]` : ''}: `);
      const next = await this.lines.next();
      if (next.done) throw new Error('provision: input ended before every question was answered');
      const text = next.value.trim() || fallback || '';
      const r = parse(text);
      if ('value' in r) return r.value;
      this.out.write(`  ${r.error}\n`);
    }
  }

  async confirm(question: string, fallback = true): Promise<boolean> {
    const parse = (t: string): Parsed<boolean> => (/^(y|yes)$/i.test(t) ? { value: true } : /^(n|no)$/i.test(t) ? { value: false } : { error: 'answer y or n' });
    return this.ask(question, parse, fallback ? 'y' : 'n');
  }

  close(): void {
    this.close_();
  }
}
