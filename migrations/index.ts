import { Core1732300000000 } from './1732300000000-Core';
import { Api1732300001000 } from './1732300001000-Api';
import { DeadLetters1732300002000 } from './1732300002000-DeadLetters';
import { ExactScores1732300003000 } from './1732300003000-ExactScores';
import { ScoreDeadLetters1732300004000 } from './1732300004000-ScoreDeadLetters';
import { SkuOrder1732300005000 } from './1732300005000-SkuOrder';
import { CsvFiles1732300013000 } from './1732300013000-CsvFiles';
import { ScoreRequests1732300022000 } from './1732300022000-ScoreRequests';
import { Datasets1732300024000 } from './1732300024000-Datasets';
import { OutboxLz41732300025000 } from './1732300025000-OutboxLz4';
import { NameOrder1732300026000 } from './1732300026000-NameOrder';

/** Every migration, oldest first. A new migration file is added here too. */
export const MIGRATIONS = [
  Core1732300000000,
  Api1732300001000,
  DeadLetters1732300002000,
  ExactScores1732300003000,
  ScoreDeadLetters1732300004000,
  SkuOrder1732300005000,
  CsvFiles1732300013000,
  ScoreRequests1732300022000,
  Datasets1732300024000,
  OutboxLz41732300025000,
  NameOrder1732300026000,
];
