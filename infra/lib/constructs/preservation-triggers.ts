/**
 * What starts preservation: EventBridge rules on the evidence account's default bus for (1) Amber's own
 * "Preservation Requested" event, (2) GuardDuty findings about EC2 instances at or above a severity, and (3)
 * Security Hub's custom action "Preserve evidence". All three invoke start-preservation, which normalises the
 * event into a PreservationRequest and starts the state machines. In multi-account mode the bus also accepts
 * events forwarded by the member accounts' rules.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeStaleRegionList } from '../nag.ts';
import { PRESERVATION_EVENT } from '../../../functions/aws/handlers/contracts.ts';
import { AmberFunction } from './amber-function.ts';

/** Id of the Security Hub custom action (max 20 alphanumerics). */
export const SECURITY_HUB_ACTION_ID = 'AmberPreserve';

/** The event patterns of the three triggers, shared with the member accounts' forwarding rules. */
export function triggerPatterns(guardDutyMinSeverity: number): { readonly custom: events.EventPattern; readonly guardDuty: events.EventPattern; readonly securityHubAction: events.EventPattern } {
  return {
    custom: { source: [PRESERVATION_EVENT.source], detailType: [PRESERVATION_EVENT.detailType] },
    guardDuty: {
      source: ['aws.guardduty'],
      detailType: ['GuardDuty Finding'],
      detail: { severity: [{ numeric: ['>=', guardDutyMinSeverity] }], resource: { resourceType: ['Instance'] } },
    },
    // Any account's "Preserve evidence" action (the member accounts define their own, with the same id).
    securityHubAction: {
      source: ['aws.securityhub'],
      detailType: ['Security Hub Findings - Custom Action'],
      resources: events.Match.suffix(`:action/custom/${SECURITY_HUB_ACTION_ID}`),
    },
  };
}

export interface PreservationTriggersProps {
  readonly instanceStateMachine: sfn.IStateMachine;
  readonly logStateMachine: sfn.IStateMachine;
  readonly guardDutyMinSeverity: number;
  readonly defaultLogWindowHours: number;
  readonly deadLetterQueue: sqs.IQueue;
  readonly logRetentionDays: number;
  /** Create the Security Hub custom action (Security Hub must be enabled). @default true */
  readonly securityHubCustomAction?: boolean;
  /**
   * Accounts whose forwarded events the default bus accepts.
   * @default - none (single-account mode: events are already on this bus)
   */
  readonly memberAccountIds?: readonly string[];
  /** Accept forwarded events from every account of this organisation. @default - only memberAccountIds */
  readonly organizationId?: string;
}

/** start-preservation and the rules that invoke it. */
export class PreservationTriggers extends Construct {
  readonly function: AmberFunction<'start-preservation'>;
  readonly rules: { readonly custom: events.Rule; readonly guardDuty: events.Rule; readonly securityHubAction?: events.Rule };
  readonly actionTarget?: securityhub.CfnActionTarget;

  constructor(scope: Construct, id: string, props: PreservationTriggersProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (!(props.guardDutyMinSeverity >= 1 && props.guardDutyMinSeverity <= 8.9)) {
      throw new Error(`PreservationTriggers: guardDutyMinSeverity must be from 1 to 8.9 (GuardDuty's scale), got ${props.guardDutyMinSeverity}`);
    }

    this.function = new AmberFunction(this, 'StartPreservation', {
      handlerName: 'start-preservation',
      environment: {
        INSTANCE_STATE_MACHINE_ARN: props.instanceStateMachine.stateMachineArn,
        LOG_STATE_MACHINE_ARN: props.logStateMachine.stateMachineArn,
        GUARDDUTY_MIN_SEVERITY: String(props.guardDutyMinSeverity),
        DEFAULT_LOG_WINDOW_HOURS: String(props.defaultLogWindowHours),
      },
      logRetentionDays: props.logRetentionDays,
      timeout: Duration.seconds(30),
      onFailure: props.deadLetterQueue,
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [props.instanceStateMachine.stateMachineArn, props.logStateMachine.stateMachineArn],
      }),
    );

    const target = new targets.LambdaFunction(this.function.function, {
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
    });
    const patterns = triggerPatterns(props.guardDutyMinSeverity);
    const custom = new events.Rule(this, 'PreservationRequested', {
      description: 'Amber: preservation requested (amber preserve, operators, member accounts)',
      eventPattern: patterns.custom,
      targets: [target],
    });
    const guardDuty = new events.Rule(this, 'GuardDutyFinding', {
      description: `Amber: GuardDuty findings on EC2 instances with severity >= ${props.guardDutyMinSeverity}`,
      eventPattern: patterns.guardDuty,
      targets: [target],
    });
    let securityHubAction: events.Rule | undefined;
    if (props.securityHubCustomAction ?? true) {
      this.actionTarget = new securityhub.CfnActionTarget(this, 'PreserveEvidenceAction', {
        name: 'Preserve evidence',
        id: SECURITY_HUB_ACTION_ID,
        description: 'Amber: snapshot the instances of the selected findings and preserve their logs',
      });
      acknowledgeStaleRegionList(this.actionTarget);
      securityHubAction = new events.Rule(this, 'SecurityHubCustomAction', {
        description: 'Amber: Security Hub custom action "Preserve evidence"',
        eventPattern: patterns.securityHubAction,
        targets: [target],
      });
    }
    this.rules = { custom, guardDuty, ...(securityHubAction ? { securityHubAction } : {}) };

    // Member accounts put their events on this bus; only those accounts (or that organisation) may.
    const members = props.memberAccountIds ?? [];
    if (members.length > 0) {
      new events.CfnEventBusPolicy(this, 'AcceptMemberAccounts', {
        eventBusName: 'default',
        statementId: 'amber-member-accounts',
        statement: {
          Sid: 'amber-member-accounts',
          Effect: 'Allow',
          Principal: { AWS: members.map((a) => `arn:${stack.partition}:iam::${a}:root`) },
          Action: 'events:PutEvents',
          Resource: `arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/default`,
        },
      });
    }
    if (props.organizationId) {
      new events.CfnEventBusPolicy(this, 'AcceptOrganization', {
        eventBusName: 'default',
        statementId: 'amber-organization',
        statement: {
          Sid: 'amber-organization',
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: `arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/default`,
          Condition: { StringEquals: { 'aws:PrincipalOrgID': props.organizationId } },
        },
      });
    }
  }
}
