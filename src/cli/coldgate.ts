import { main } from './main.ts';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
    // A one-shot command is done: a socket or timer some library left open must not keep it alive.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (err: Error) => {
    process.stderr.write(`coldgate: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
