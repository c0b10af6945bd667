/**
 * Forwarding from a member account's default bus to the evidence account's: GuardDuty findings on EC2 at or
 * above the severity threshold, the Security Hub "Preserve evidence" custom action (created here too, so
 * analysts in the member account can use it), and Amber's "Preservation Requested" events. Only those.
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import { Construct } from 'constructs';
import { acknowledgeStaleRegionList } from '../nag.ts';
import { SECURITY_HUB_ACTION_ID, triggerPatterns } from './preservation-triggers.ts';

export interface EventForwardingProps {
  readonly evidenceAccountId: string;
  /** Region of the evidence account's bus. @default - this stack's region */
  readonly evidenceRegion?: string;
  readonly guardDutyMinSeverity: number;
  /** Create the Security Hub custom action in this account. @default true */
  readonly securityHubCustomAction?: boolean;
}

/** Rules that put the three trigger events on the evidence account's default bus. */
export class EventForwarding extends Construct {
  readonly rules: events.Rule[] = [];
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const region = props.evidenceRegion ?? stack.region;
    const busArn = `arn:${stack.partition}:events:${region}:${props.evidenceAccountId}:event-bus/default`;
    const bus = events.EventBus.fromEventBusArn(this, 'EvidenceBus', busArn);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: 'Amber: forward preservation triggers to the evidence account',
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [busArn] }));

    const patterns = triggerPatterns(props.guardDutyMinSeverity);
    const forward = (ruleId: string, description: string, eventPattern: events.EventPattern): void => {
      this.rules.push(new events.Rule(this, ruleId, { description, eventPattern, targets: [new targets.EventBus(bus, { role: this.role })] }));
    };
    forward('PreservationRequested', 'Amber: forward preservation requests to the evidence account', patterns.custom);
    forward('GuardDutyFinding', `Amber: forward GuardDuty findings on EC2 (severity >= ${props.guardDutyMinSeverity})`, patterns.guardDuty);
    if (props.securityHubCustomAction ?? true) {
      const action = new securityhub.CfnActionTarget(this, 'PreserveEvidenceAction', {
        name: 'Preserve evidence',
        id: SECURITY_HUB_ACTION_ID,
        description: 'Amber: snapshot the instances of the selected findings and preserve their logs',
      });
      acknowledgeStaleRegionList(action);
      forward('SecurityHubCustomAction', 'Amber: forward the Security Hub "Preserve evidence" action', patterns.securityHubAction);
    }
  }
}
