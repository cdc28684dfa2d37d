import { coalesceStrategy } from './coalesce';
import { CommitStrategy } from './commit-strategy';
import { CommitContext } from './context';
import { foldBeginStrategy } from './fold-begin';
import { plainStrategy } from './plain';
import { CommitStrategyName } from './types';

/** The strategy a consumer's options name (BatchConsumerOptions.commit), made once per consumer. */
export function createCommitStrategy<T>(name: CommitStrategyName, ctx: CommitContext<T>): CommitStrategy<T> {
  switch (name) {
    case 'plain':
      return plainStrategy(ctx);
    case 'fold-begin':
      return foldBeginStrategy(ctx);
    case 'coalesce':
      return coalesceStrategy(ctx, foldBeginStrategy(ctx));
  }
}
