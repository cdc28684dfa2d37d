import kafkajsPackage from 'kafkajs/package.json';
import groupMessagesPerPartition from 'kafkajs/src/producer/groupMessagesPerPartition';
import sendMessages from 'kafkajs/src/producer/sendMessages';
import produceRequest from 'kafkajs/src/protocol/requests/produce/v3/request';
import decodeMessages from 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages';
import decodeRecordBatch from 'kafkajs/src/protocol/recordBatch/v0/decoder';
import RequestQueue from 'kafkajs/src/network/requestQueue';
import requestFrame from 'kafkajs/src/protocol/request';

/**
 * dasy needs kafkajs 2.2.4 with the fixes of patches/kafkajs+2.2.4.patch (applied by `npm ci`'s
 * postinstall, see README "Kafka client"): without them a send loses messages when a broker dies.
 * Loading this module (client.ts and every file that loads kafkajs import it) throws when the
 * installed kafkajs is another version or lacks a fix, so an unpatched install never runs.
 */
export const KAFKAJS_VERSION = '2.2.4';
/** the marker each patched module exports; a new revision of the patch changes it */
export const KAFKAJS_PATCH = 'dasy-kafkajs-2.2.4-5';

export interface InstalledKafkajs {
  version: string;
  /** each patched module of kafkajs, by what it fixes */
  modules: Record<string, { DASY_PATCH?: unknown } | undefined>;
}

export const installedKafkajs: InstalledKafkajs = {
  version: kafkajsPackage.version,
  modules: {
    'linear groupMessagesPerPartition': groupMessagesPerPartition,
    'partition-keyed send retry (sendMessages)': sendMessages,
    'Produce request encoder (produce/v3/request)': produceRequest,
    "a fetch's records end at each record batch's end (fetch/v4/decodeMessages)": decodeMessages,
    'record batch decoder (recordBatch/v0/decoder)': decodeRecordBatch,
    'no idle timer loop (network/requestQueue)': RequestQueue,
    'one copy per request frame (protocol/request)': requestFrame,
  },
};

/** What is wrong with the installed kafkajs, in one line, or null when it is the patched 2.2.4. */
export function kafkajsProblem(installed: InstalledKafkajs): string | null {
  if (installed.version !== KAFKAJS_VERSION) {
    return `expected kafkajs ${KAFKAJS_VERSION}, found ${installed.version} (package.json pins it; run npm ci)`;
  }
  const missing = Object.entries(installed.modules)
    .filter(([, module]) => module?.DASY_PATCH !== KAFKAJS_PATCH)
    .map(([fix]) => fix);
  if (missing.length) {
    return `kafkajs is not patched (patches/kafkajs+2.2.4.patch): run npm ci (${KAFKAJS_PATCH} missing in ${missing.join(', ')})`;
  }
  return null;
}

export function assertKafkajsPatched(installed: InstalledKafkajs = installedKafkajs): void {
  const problem = kafkajsProblem(installed);
  if (problem) throw new Error(problem);
}

assertKafkajsPatched();
