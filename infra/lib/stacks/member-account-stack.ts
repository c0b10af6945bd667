/**
 * A member (customer) account: the collector role the evidence account assumes with an external id, and, in
 * multi-account mode, the rules that forward preservation triggers to the evidence account's bus. In
 * single-account mode the triggers are already on the evidence bus, so only the role is deployed.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AmberConfig } from '../config.ts';
import { CollectorRole } from '../constructs/collector-role.ts';
import { EventForwarding } from '../constructs/event-forwarding.ts';

export interface MemberAccountStackProps extends StackProps {
  readonly config: AmberConfig;
  /** Account of the evidence stack (a token of this account in single-account mode). */
  readonly evidenceAccountId: string;
  /** Name of the evidence stack; only its roles may assume the collector role. */
  readonly evidenceStackName: string;
}

/** The collector role, and event forwarding in multi-account mode. */
export class MemberAccountStack extends Stack {
  readonly collector: CollectorRole;
  readonly forwarding?: EventForwarding;

  constructor(scope: Construct, id: string, props: MemberAccountStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.collector = new CollectorRole(this, 'Collector', {
      evidenceAccountId: props.evidenceAccountId,
      evidenceStackName: props.evidenceStackName,
      externalId: config.collectorExternalId,
      roleName: config.collectorRoleName,
      trailBucket: config.trailBucket,
      trailPrefix: config.trailPrefix,
      trailKmsKeyArn: config.trailKmsKeyArn,
    });

    if (!config.singleAccount) {
      this.forwarding = new EventForwarding(this, 'Forwarding', {
        evidenceAccountId: props.evidenceAccountId,
        evidenceRegion: config.evidenceRegion,
        guardDutyMinSeverity: config.guardDutyMinSeverity,
        securityHubCustomAction: config.securityHubCustomAction,
      });
    }

    new CfnOutput(this, 'CollectorRoleArn', { value: this.collector.role.roleArn, description: 'Assumed by the evidence account with the external id' });
  }
}
