/** Lambda handler `list-log-objects` (contract: ./contracts.ts). Not built yet: it says so instead of pretending. */
import { NotImplementedError } from '../../../shared/errors.ts';

export const handler = async (): Promise<never> => {
  throw new NotImplementedError('the list-log-objects function is not built yet');
};
