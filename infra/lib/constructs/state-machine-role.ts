/**
 * The execution role of an Amber state machine, written out statement by statement. The state machine gets it
 * through `withoutPolicyUpdates()`, so CDK's automatic grants (whole-bucket S3 access for Distributed Map
 * readers and writers, `function:*` versions) do not widen it: what is here is all the role can do.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface StateMachineRoleProps {
  /** Functions the state machine invokes (unqualified: $LATEST). */
  readonly functions: readonly lambda.IFunction[];
  readonly description: string;
}

/** A Step Functions execution role that invokes the given functions, logs and traces. */
export class StateMachineRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: StateMachineRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Resource', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: props.description,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InvokeTaskFunctions', actions: ['lambda:InvokeFunction'], resources: props.functions.map((f) => f.functionArn) }),
    );
    // CloudWatch Logs vended-log delivery and X-Ray take no resource ARNs: AWS documents `*` for both.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeliverExecutionLogs',
        actions: [
          'logs:CreateLogDelivery',
          'logs:GetLogDelivery',
          'logs:UpdateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:DescribeResourcePolicies',
          'logs:DescribeLogGroups',
        ],
        resources: ['*'],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TraceExecutions',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Only the log-delivery and X-Ray statements use "*": those actions support no resource-level permissions (Step Functions logging and tracing documentation). Every other statement names its resources.',
    });
  }

  /** Adds a statement to the role. */
  addToPolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}
