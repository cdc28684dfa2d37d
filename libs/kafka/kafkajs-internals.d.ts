/**
 * Types of the kafkajs 2.2.4 modules that patches/kafkajs+2.2.4.patch changes or adds, for the
 * load check (kafkajs-check.ts) and the unit tests that run them. `DASY_PATCH` is the patch's
 * marker; it is absent from an unpatched kafkajs.
 */

declare module 'kafkajs/src/producer/groupMessagesPerPartition' {
  const groupMessagesPerPartition: ((args: {
    topic: string;
    partitionMetadata: unknown[];
    messages: unknown[];
    partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
  }) => Record<string, unknown[]>) & { DASY_PATCH?: string };
  export = groupMessagesPerPartition;
}

declare module 'kafkajs/src/producer/sendMessages' {
  /** kafkajs's Cluster, EosManager, retrier and logger: the parts the send uses */
  interface SendMessagesDeps {
    logger: { debug(message: string, extra?: object): void; error(message: string, extra?: object): void };
    cluster: object;
    partitioner: unknown;
    eosManager: object;
    retrier: <T>(fn: (bail: (err: Error) => void, retryCount: number, retryTime: number) => Promise<T>) => Promise<T>;
  }
  interface Send {
    acks: number;
    timeout?: number;
    compression?: number;
    topicMessages: { topic: string; messages: unknown[] }[];
  }
  const sendMessages: ((deps: SendMessagesDeps) => (send: Send) => Promise<{ topicName: string; partition: number }[]>) & {
    DASY_PATCH?: string;
  };
  export = sendMessages;
}

declare module 'kafkajs/src/protocol/requests/produce/v3/request' {
  interface ProduceRequestArgs {
    acks: number;
    timeout: number;
    transactionalId?: string | null;
    producerId?: unknown;
    producerEpoch?: number;
    compression?: number;
    topicData: { topic: string; partitions: { partition: number; firstSequence?: number; messages: object[] }[] }[];
  }
  interface ProduceRequest {
    apiKey: number;
    apiVersion: number;
    apiName: string;
    expectResponse(): boolean;
    encode(): Promise<{ buffer: Buffer }>;
  }
  /** patched: plain requests by plainEncoder.js; `kafkajsRequest` is kafkajs's own */
  const produceRequest: ((args: ProduceRequestArgs) => ProduceRequest) & {
    kafkajsRequest?: (args: ProduceRequestArgs) => ProduceRequest;
    DASY_PATCH?: string;
  };
  export = produceRequest;
}

declare module 'kafkajs/src/protocol/requests/produce/v3/plainEncoder' {
  import produceRequest from 'kafkajs/src/protocol/requests/produce/v3/request';
  type ProduceRequestArgs = Parameters<typeof produceRequest>[0];
  export function crc32c(buf: Buffer, start?: number, end?: number): number;
  export function isPlain(args: ProduceRequestArgs): boolean;
  export function encodeProduceRequest(args: ProduceRequestArgs, now?: () => number): Buffer;
}

declare module 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages' {
  /** kafkajs's Decoder over a fetch response, at a partition's records */
  interface Decoder {
    readInt32(): number;
  }
  /** patched: a record batch's records, then a control record at the batch's end offset when no record is there */
  const decodeMessages: ((decoder: Decoder) => Promise<{ offset: string; isControlRecord: boolean }[]>) & { DASY_PATCH?: string };
  export = decodeMessages;
}

declare module 'kafkajs/src/protocol/recordBatch/v0/decoder' {
  /** patched: an uncompressed batch's records read by plainDecoder.js unless it declines */
  const decodeRecordBatch: ((decoder: unknown) => Promise<{ records: object[] }>) & { DASY_PATCH?: string };
  export = decodeRecordBatch;
}

declare module 'kafkajs/src/protocol/recordBatch/crc32C/crc32C' {
  const crc32C: (buf: Buffer) => number;
  export = crc32C;
}

declare module 'kafkajs/src/utils/long' {
  interface Long {
    getHighBits(): number;
    getLowBits(): number;
  }
  const Long: { fromInt(v: number): Long; fromNumber(v: number): Long; fromValue(v: unknown): Long };
  export = Long;
}

declare module 'kafkajs/src/network/requestQueue' {
  /** the queue of one broker connection's requests: the parts the unit test drives */
  class RequestQueue {
    constructor(args: {
      instrumentationEmitter?: unknown;
      maxInFlightRequests?: number | null;
      requestTimeout?: number;
      enforceRequestTimeout?: boolean;
      clientId: string;
      broker: string;
      logger: unknown;
      isConnected?: () => boolean;
    });
    pending: unknown[];
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    scheduleCheckPendingRequests(): void;
    checkPendingRequests(): void;
    maybeThrottle(clientSideThrottleTime: number | null): void;
    push(request: { entry: object; expectResponse: boolean; sendRequest: () => void; requestTimeout?: number }): void;
    static DASY_PATCH?: string;
  }
  export = RequestQueue;
}

declare module 'kafkajs/src/protocol/request' {
  import Encoder from 'kafkajs/src/protocol/encoder';
  /** a request's frame: its size, the header (api key and version, correlation id, client id), the payload */
  function requestFrame(args: {
    correlationId: number;
    clientId: string;
    request: { apiKey: number; apiVersion: number; encode(): Promise<Encoder> | Encoder };
  }): Promise<Encoder>;
  namespace requestFrame {
    const DASY_PATCH: string | undefined;
  }
  export = requestFrame;
}

declare module 'kafkajs/src/protocol/encoder' {
  /** kafkajs's protocol writer: its bytes are buf[0, offset) */
  class Encoder {
    constructor(initialSize?: number);
    buf: Buffer;
    offset: number;
    readonly buffer: Buffer;
    writeInt16(value: number): Encoder;
    writeInt32(value: number): Encoder;
    writeString(value: string | null): Encoder;
    writeEncoder(value: Encoder): Encoder;
    writeBuffer(value: Buffer): Encoder;
    size(): number;
  }
  export = Encoder;
}
