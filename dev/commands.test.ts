import { Command } from 'commander';
import { registerCommands } from '../apps/cli/commands';
import { createLogger } from '../libs/log';
import { registerDevPipelineCommands } from './commands';

const logger = createLogger('test', 'error');
const optionsOf = (program: Command, name: string) =>
  program.commands
    .find((c) => c.name() === name)!
    .options.map((o) => o.long)
    .sort();

test('the shipped dasy has no development tool, nor their options', () => {
  const shipped = new Command('dasy');
  registerCommands(shipped, logger);
  const names = shipped.commands.map((c) => c.name());
  expect(names.filter((n) => ['bench', 'chaos'].includes(n))).toEqual([]);
  expect(optionsOf(shipped, 'ingest')).toEqual(['--consumers', '--dataset', '--file', '--rejects', '--sync']);
  expect(optionsOf(shipped, 'product-count-producer')).toEqual(['--max-delay', '--metrics-host', '--metrics-port', '--quiet']);
});

test("the development entry point's ingest and relay are the shipped ones with one option more", () => {
  const dev = new Command('dasy-dev');
  registerDevPipelineCommands(dev, logger);
  expect(optionsOf(dev, 'ingest')).toEqual(['--consumers', '--dataset', '--file', '--phases-file', '--rejects', '--sync']);
  expect(optionsOf(dev, 'product-count-producer')).toEqual(['--kill-after-send', '--max-delay', '--metrics-host', '--metrics-port', '--quiet']);
});
