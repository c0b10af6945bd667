/**
 * The FindingsNotifier port: where a scheduled detection run reports what it found (a topic, a findings hub).
 * Notifiers receive the findings as Amber produced them; each adapter shapes them for its service.
 */
import type { DetectionError, Finding } from '../detections/run.ts';

/** One detection run, as notifiers see it. */
export interface FindingsReport {
  readonly runId: string;
  /** Where the findings JSON was written (evidence bucket key). */
  readonly findingsKey: string;
  readonly findingsSha256: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly findings: readonly Finding[];
  readonly errors: readonly DetectionError[];
  /** Plain-text summary (control characters made visible, long values cut), for notifiers that show text. */
  readonly summary: { readonly subject: string; readonly text: string };
}

/** What a notifier did with a report. */
export interface NotifyResult {
  readonly notifier: string;
  /** Findings the service accepted. */
  readonly sent: number;
  /** Findings the service refused, with its reasons. */
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
}

/** Publishes a detection run's findings somewhere people or systems watch. */
export interface FindingsNotifier {
  readonly name: string;
  notify(report: FindingsReport): Promise<NotifyResult>;
}
