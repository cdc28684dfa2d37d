import { AssignerProtocol, KafkaJSDeleteGroupsError } from 'kafkajs';
import { KafkaError } from '../errors';
import { Admin } from './port';

/** The partitions of `topic` a consumer group member was assigned (from describeGroups's memberAssignment). */
export function memberPartitions(memberAssignment: Buffer, topic: string): number[] {
  return AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment[topic] ?? [];
}

/**
 * Delete these consumer groups where they exist (`make reset`: the groups that hold the offsets
 * mirrored for monitoring, libs/consumer/mirror.ts). A group that still has members cannot be
 * deleted: it is returned in `busy`, by the broker's error type, not its message.
 */
export async function deleteGroups(admin: Admin, groupIds: string[]): Promise<{ deleted: string[]; busy: string[] }> {
  const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
  const doomed = groupIds.filter((g) => existing.has(g));
  if (!doomed.length) return { deleted: [], busy: [] };
  try {
    await admin.deleteGroups(doomed);
    return { deleted: doomed, busy: [] };
  } catch (err) {
    // the client's own error says which group failed, and why
    const cause = err instanceof KafkaError ? err.cause : err;
    if (!(cause instanceof KafkaJSDeleteGroupsError)) throw err;
    const failed = new Map(cause.groups.map((g) => [g.groupId, g.error?.type]));
    const other = [...failed].find(([, type]) => type !== 'NON_EMPTY_GROUP' && type !== 'GROUP_ID_NOT_FOUND');
    if (other) throw err;
    const busy = doomed.filter((g) => failed.get(g) === 'NON_EMPTY_GROUP');
    return { deleted: doomed.filter((g) => !busy.includes(g)), busy };
  }
}
