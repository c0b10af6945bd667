/** Every analytic Amber runs beside the SQL catalogue. */
import type { Analytic } from './analytic.ts';
import { credentialSharing } from './credential-sharing.ts';
import { impossibleTravel } from './impossible-travel.ts';

export { runAnalytics, type Analytic, type AnalyticContext } from './analytic.ts';
export const ANALYTICS: readonly Analytic[] = [impossibleTravel, credentialSharing];
