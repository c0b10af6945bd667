/**
 * The inventory in the evidence account: the take-inventory function (it assumes the member account's collector
 * role, like the preservation functions), the inventory state machine that runs it on demand (TakeInventory →
 * record-custody, sealed), started by the `amber` event `Inventory Requested`, and `inventoryFirst`, the steps the
 * instance-preservation state machine runs before anything else.
 *
 * On-demand payload (StartExecution input, or the event's detail):
 *   { "case": "INC-1", "accountId": "111122223333", "regions": ["eu-west-1"], "requestId": "inv-1" }
 * (from the event, requestId is the event id). The execution's start time names the inventory, so a retried task
 * resumes it instead of starting over.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { INVENTORY_EVENT } from '../../../functions/aws/handlers/contracts.ts';
import { EVIDENCE_LAYOUT } from '../defaults.ts';
import { acknowledgeWildcardResources } from '../nag.ts';
import { addRetries, ERROR_PATH, TaskFactory } from '../state-machine-tasks.ts';
import { AmberFunction } from './amber-function.ts';
import type { EvidenceBucket } from './evidence-bucket.ts';
import type { CollectorAccess } from './instance-preservation.ts';
import { StateMachineRole } from './state-machine-role.ts';

export interface InventoryCollectionProps {
  readonly evidence: EvidenceBucket;
  readonly recordCustody: lambda.IFunction;
  readonly collector: CollectorAccess;
  readonly retentionDays: number;
  readonly logRetentionDays: number;
  /** Where the rule's failed deliveries go. */
  readonly deadLetterQueue: sqs.IQueue;
}

/** The TakeInventory task's payload: the state, and the execution's start time that names the inventory. */
const INVENTORY_PAYLOAD = sfn.TaskInput.fromObject({ input: sfn.JsonPath.objectAt('$'), executionStartTime: sfn.JsonPath.stringAt('$$.Execution.StartTime') });

/**
 * The inventory as the first steps of a state machine, before `then`: TakeInventory (its summary at
 * `$.inventory`) → RecordInventory (its items, from the work object). The inventory documents the account; it
 * does not hold up preservation: when it fails, the failure is recorded (`inventory-failed`) and `then` runs.
 */
export function inventoryFirst(scope: Construct, t: TaskFactory, fn: lambda.IFunction, then: sfn.IChainable): sfn.IChainable {
  const take = new tasks.LambdaInvoke(scope, 'TakeInventory', {
    comment: 'Inventory of the account (its region, IAM, S3) through its collector role, every answer kept as evidence (→ $.inventory)',
    lambdaFunction: fn,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    payload: INVENTORY_PAYLOAD,
    resultSelector: { 'stamp.$': '$.inventory.stamp', 'items.$': '$.inventory.items', 'problems.$': '$.inventory.problems', 'itemsObject.$': '$.inventory.itemsObject' },
    resultPath: '$.inventory',
  });
  addRetries(take);
  take.addCatch(t.record('RecordInventoryFailed', 'inventory-failed').next(then), { resultPath: '$.inventoryError' });
  return take.next(t.record('RecordInventory', 'take-inventory', { itemsObject: sfn.JsonPath.objectAt('$.inventory.itemsObject') })).next(then);
}

/** take-inventory, its on-demand state machine and the rule that starts it. */
export class InventoryCollection extends Construct {
  readonly function: AmberFunction<'take-inventory'>;
  readonly stateMachine: sfn.StateMachine;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: InventoryCollectionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.function = new AmberFunction(this, 'TakeInventory', {
      handlerName: 'take-inventory',
      environment: {
        EVIDENCE_BUCKET: props.evidence.bucket.bucketName,
        RETENTION_DAYS: String(props.retentionDays),
        COLLECTOR_ROLE_NAME: props.collector.roleName,
        COLLECTOR_EXTERNAL_ID: props.collector.externalId,
      },
      logRetentionDays: props.logRetentionDays,
      memorySize: 1024,
      // One request at a time per account and region; a large account takes minutes. A retry resumes.
      timeout: Duration.minutes(15),
    });
    // It reads the member account only through the collector role.
    const roles = props.collector.accountIds.map((a) => `arn:${stack.partition}:iam::${a}:role/${props.collector.roleName}`);
    this.function.addToRolePolicy(new iam.PolicyStatement({ sid: 'AssumeCollector', actions: ['sts:AssumeRole'], resources: roles }));
    if (props.collector.organizationId) {
      const anyInOrg = `arn:${stack.partition}:iam::*:role/${props.collector.roleName}`;
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'AssumeCollectorInOrganization', actions: ['sts:AssumeRole'], resources: [anyInOrg], conditions: { StringEquals: { 'aws:ResourceOrgID': props.collector.organizationId } } }),
      );
      acknowledgeWildcardResources(this.function.role, [anyInOrg], 'amber:organizationId is set: the collector role may be assumed in any account of that organisation only (aws:ResourceOrgID), by its fixed name.');
    }
    // Answers under the case (read back when a retry resumes), and the work object for record-custody.
    props.evidence.grantReadEvidence(this.function.role, [`${EVIDENCE_LAYOUT.cases}*`]);
    props.evidence.grantWriteEvidence(this.function.role, [`${EVIDENCE_LAYOUT.cases}*`, `${EVIDENCE_LAYOUT.inventoryBatches}*`]);

    this.stateMachine = this.buildStateMachine(props);
    this.rule = new events.Rule(this, 'OnDemand', {
      description: `Amber: take an inventory when an "${INVENTORY_EVENT.detailType}" event arrives`,
      eventPattern: { source: [INVENTORY_EVENT.source], detailType: [INVENTORY_EVENT.detailType] },
    });
    this.rule.addTarget(new targets.SfnStateMachine(this.stateMachine, { deadLetterQueue: props.deadLetterQueue, retryAttempts: 4, maxEventAge: Duration.hours(6) }));
  }

  private buildStateMachine(props: InventoryCollectionProps): sfn.StateMachine {
    const states = new Construct(this, 'States');
    const fail = new sfn.Fail(states, 'InventoryFailed', { comment: 'The failure is in the custody ledger', errorPath: `${ERROR_PATH}.Error`, causePath: `${ERROR_PATH}.Cause` });
    const t = new TaskFactory(states, props.recordCustody, fail);
    // The event's detail, as the direct payload (requestId: the event id).
    const fromEvent = new sfn.Pass(states, 'RequestFromEvent', {
      parameters: { 'case.$': '$.detail.case', 'accountId.$': '$.detail.accountId', 'regions.$': '$.detail.regions', 'requestId.$': '$.id' },
    });
    const take = t.task('TakeInventory', this.function.function, { comment: 'Inventory of the account in the given regions (IAM and S3 once) through its collector role', payload: INVENTORY_PAYLOAD });
    take.next(t.record('RecordInventory', 'take-inventory', { itemsObject: sfn.JsonPath.objectAt('$.inventory.itemsObject'), seal: true })).next(new sfn.Succeed(states, 'InventoryTaken'));
    const definition = new sfn.Choice(states, 'FromEvent?').when(sfn.Condition.isPresent('$.detail'), fromEvent.next(take)).otherwise(take);
    const role = new StateMachineRole(this, 'Role', { description: 'Amber inventory state machine', functions: [this.function.function, props.recordCustody] });
    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays as logs.RetentionDays, removalPolicy: RemovalPolicy.RETAIN });
    return new sfn.StateMachine(this, 'Resource', {
      comment: 'Amber: inventory of an account on demand, preserved and recorded in the case',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      role: role.role.withoutPolicyUpdates(),
      timeout: Duration.hours(2),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}
