/**
 * cdk-nag acknowledgements whose finding id depends on how a resource ARN renders (tokens, pseudo parameters):
 * the id is computed the way cdk-nag computes it, so it matches in an environment-agnostic synth and in one with
 * a concrete account and region alike.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** The `Resource::...` part of an AwsSolutions-IAM5 finding for `resource` as rendered in `scope`'s stack. */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flattened(scope, resource)}]`;
}

function flattened(scope: IConstruct, resource: string): string {
  return flattenCfnReference(Stack.of(scope).resolve(resource));
}

/** Acknowledges, on `scope`, the IAM5 finding of each wildcard resource, with one reason. */
export function acknowledgeWildcardResources(scope: IConstruct, resources: readonly string[], reason: string): void {
  for (const resource of resources) {
    if (!flattened(scope, resource).includes('*')) continue;
    Validations.of(scope).acknowledge({ id: wildcardResourceFinding(scope, resource), reason });
  }
}

/**
 * CDK's CloudFormation validation (flag @aws-cdk/core:validateAgainstDefaultRules) checks resource types against a
 * region list bundled with aws-cdk-lib, which lacks AWS::SecurityHub::ActionTarget in some regions where
 * CloudFormation supports it (eu-west-1 among them).
 */
export function acknowledgeStaleRegionList(resource: IConstruct): void {
  Validations.of(resource).acknowledge({
    id: 'CloudFormation-Validate::F3006',
    reason: 'AWS::SecurityHub::ActionTarget is a CloudFormation resource in every Security Hub region; the region list bundled with aws-cdk-lib is behind.',
  });
}
