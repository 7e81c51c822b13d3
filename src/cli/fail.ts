// How the program gives up: a short message on stderr and an exit code (2 for what the user
// can fix: flags, files, ports; otherwise 1).

export function fail(message: string, exitCode = 2): never {
  process.stderr.write(`sluice: ${message}\n`);
  process.exit(exitCode);
}
