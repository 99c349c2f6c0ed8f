import { main } from './main.ts';

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`coldgate: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
