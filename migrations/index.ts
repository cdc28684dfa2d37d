import { Core1732300000000 } from './1732300000000-Core';
import { Api1732300001000 } from './1732300001000-Api';

/** Every migration, oldest first. A new migration file is added here too. */
export const MIGRATIONS = [Core1732300000000, Api1732300001000];
