import { ConfigError, type Config } from './config.js';
import { OutputSetupError } from '../output/output-setup-error.js';
import { TlsSetupError } from '../tls/certificates.js';
import { launch } from './launch.js';

/** The CLI's entry: run until stopped, return the exit status. */
export async function runProxy(config: Config): Promise<number> {
  // --demo: a throwaway embedded server behind the proxy; see src/app/demo.ts.
  if (config.demo) return (await import('./demo.js')).runDemo(config);
  const p = await launch(config, { handleSignals: true }).catch((e: unknown) => {
    // A certificate, key, root or key-log file the options name that cannot be used is a
    // mistake in the command line: the CLI reports a ConfigError as one line, status 2.
    throw e instanceof TlsSetupError || e instanceof OutputSetupError ? new ConfigError(e.message) : e;
  });
  const code = await p.done;
  // A reader that is not reading may still hold up Node's own stream for standard output
  // (a socket, which cannot be closed): what it did not take is given up, as said on stderr.
  if (p.outputsAbandoned) process.exit(code);
  return code;
}

