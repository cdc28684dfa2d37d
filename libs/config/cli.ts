import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../errors';
import { parseInteger } from './parse';

/** The one integer option parser of the CLI (commander): `--consumers <n>` from min to max. */
export function intOption(name: string, min = 1, max = 1_000_000_000): (value: string) => number {
  return (value: string) => {
    try {
      return parseInteger(name, value, min, max);
    } catch (err) {
      throw new InvalidArgumentError(err instanceof ConfigError ? err.message : String(err));
    }
  };
}
