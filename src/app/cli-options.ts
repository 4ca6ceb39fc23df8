/**
 * How the CLI declares an option: its help text with the default, and its value checked by
 * config.ts's parsers (so that a bad value is a ConfigError naming the flag).
 */
import { Option } from 'commander';
import { parseChoice, parseNonEmpty } from './config.js';

export const or = (values: readonly string[]): string => `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
export const dflt = (v: unknown): string => ` (default: ${String(v)})`;

export function valueOption(flags: string, description: string, parse: (v: string) => unknown): Option {
  return new Option(flags, description).argParser((v: string) => parse(v));
}

/** The long flag of an option, e.g. `--server-sslmode`, for messages. */
function longFlag(flags: string): string {
  return /--[a-z-]+/.exec(flags)?.[0] ?? flags;
}

export function choice(flags: string, allowed: readonly string[], description: string, def?: string): Option {
  return valueOption(flags, `${or(allowed)}: ${description}${def === undefined ? '' : dflt(def)}`, (v) => parseChoice(longFlag(flags), allowed, v));
}

export function pathOption(flags: string, description: string): Option {
  return valueOption(flags, description, (v) => parseNonEmpty(longFlag(flags), v));
}

