/**
 * Loaded second by the CLI, before the commands' modules: a part run on its own (make, bin/dasy, a
 * user's node) gets the memory caps a supervisor would fork it with, declared once in its spec
 * (apps/components.ts), and a command that streams a file, the parts' semi-space cap
 * (libs/runtime/memory-caps.ts).
 */
import { applyOwnCaps, capsOf } from '../../libs/runtime/memory-caps';
import { COMPONENTS, datasetAggregates, datasetConsumer, productCountFollowers } from '../components';

/** Every part a command runs on its own. */
const PARTS = [...COMPONENTS, productCountFollowers, datasetConsumer, datasetAggregates];

applyOwnCaps(capsOf(process.argv[2], (command) => PARTS.find((spec) => spec.name === command)?.heapMb));
