/** Lambda handler `capture-instance` (contract: ./contracts.ts). Not built yet: it says so instead of pretending. */
import { NotImplementedError } from '../../../shared/errors.ts';

export const handler = async (): Promise<never> => {
  throw new NotImplementedError('the capture-instance function is not built yet');
};
