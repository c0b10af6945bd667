/** Lambda handler `create-snapshots` (contract: ./contracts.ts). Not built yet: it says so instead of pretending. */
import { NotImplementedError } from '../../../shared/errors.ts';

export const handler = async (): Promise<never> => {
  throw new NotImplementedError('the create-snapshots function is not built yet');
};
