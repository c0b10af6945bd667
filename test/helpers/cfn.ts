/**
 * Reading synthesized CloudFormation offline: resources by construct path, and a resolver that turns the
 * intrinsic functions CDK writes (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub) into the concrete
 * strings AWS would produce, with deterministic physical names, so policies can be evaluated without a cloud.
 */

/** A synthesized CloudFormation template (only what the tests read). */
export interface CfnTemplate {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
}

/** Account, region and partition of the stack the template is deployed as. */
export interface CfnEnv {
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
}

/** Logical id of the resource created by the construct at `path` (its `aws:cdk:path` metadata). */
export function logicalIdAt(template: CfnTemplate, path: string): string {
  const hits = Object.entries(template.Resources).filter(([, r]) => r.Metadata?.['aws:cdk:path'] === path);
  if (hits.length !== 1) {
    const known = Object.values(template.Resources).map((r) => r.Metadata?.['aws:cdk:path']).filter(Boolean);
    throw new Error(`expected one resource at ${path}, found ${hits.length}; paths: ${known.join(', ')}`);
  }
  return hits[0]![0];
}

/** The physical name a deployment would give a resource: lower-case for buckets, the logical id otherwise. */
function physicalName(template: CfnTemplate, id: string): string {
  const r = template.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  const props = r.Properties ?? {};
  const named = (key: string): string | undefined => (typeof props[key] === 'string' ? (props[key] as string) : undefined);
  switch (r.Type) {
    case 'AWS::S3::Bucket':
      return named('BucketName') ?? `${id.toLowerCase()}-bucket`;
    case 'AWS::IAM::Role':
      return named('RoleName') ?? id;
    case 'AWS::KMS::Key':
      return `key-${id.toLowerCase()}`;
    case 'AWS::Athena::WorkGroup':
      return named('Name') ?? id;
    default:
      return id;
  }
}

/** Resolves CloudFormation intrinsics in `value` for a template deployed in `env`. */
export function resolveCfn(value: unknown, template: CfnTemplate, env: CfnEnv): unknown {
  const partition = env.partition ?? 'aws';
  const arnOf = (id: string): string => {
    const r = template.Resources[id];
    if (!r) throw new Error(`GetAtt of unknown resource ${id}`);
    const name = physicalName(template, id);
    switch (r.Type) {
      case 'AWS::S3::Bucket':
        return `arn:${partition}:s3:::${name}`;
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${env.account}:role/${name}`;
      case 'AWS::KMS::Key':
        return `arn:${partition}:kms:${env.region}:${env.account}:key/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:${partition}:lambda:${env.region}:${env.account}:function:${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:${partition}:logs:${env.region}:${env.account}:log-group:${name}:*`;
      case 'AWS::SQS::Queue':
        return `arn:${partition}:sqs:${env.region}:${env.account}:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:${partition}:sns:${env.region}:${env.account}:${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${partition}:states:${env.region}:${env.account}:stateMachine:${name}`;
      default:
        throw new Error(`no ARN rule for ${r.Type} (${id})`);
    }
  };
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = o[k];
      if (k === 'Ref') {
        const ref = arg as string;
        if (ref === 'AWS::AccountId') return env.account;
        if (ref === 'AWS::Region') return env.region;
        if (ref === 'AWS::Partition') return partition;
        if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
        const r = template.Resources[ref];
        if (!r) throw new Error(`Ref to unknown ${ref}`);
        if (r.Type === 'AWS::SNS::Topic' || r.Type === 'AWS::StepFunctions::StateMachine') return arnOf(ref);
        return physicalName(template, ref);
      }
      if (k === 'Fn::GetAtt') {
        const [id, attr] = arg as [string, string];
        if (attr === 'Arn') return arnOf(id);
        if (attr === 'Name' || attr === 'QueueName' || attr === 'TopicName') return physicalName(template, id);
        throw new Error(`GetAtt ${id}.${attr} not supported`);
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (visit(parts) as unknown[]).map(String).join(sep);
      }
      if (k === 'Fn::Select') {
        const [i, list] = arg as [number, unknown];
        return (visit(list) as unknown[])[Number(i)];
      }
      if (k === 'Fn::Split') {
        const [sep, s] = arg as [string, unknown];
        return String(visit(s)).split(sep);
      }
      if (k === 'Fn::Sub') {
        const text = typeof arg === 'string' ? arg : (arg as [string])[0];
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => String(visit(name.includes('.') ? { 'Fn::GetAtt': name.split('.') } : { Ref: name })));
      }
    }
    return Object.fromEntries(keys.map((key) => [key, visit(o[key])]));
  };
  return visit(value);
}

/** The identity policies (inline and attached AWS::IAM::Policy) of the role with logical id `roleId`, resolved. */
export function rolePolicies(template: CfnTemplate, roleId: string, env: CfnEnv): Array<{ name: string; policy: unknown }> {
  const role = template.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role`);
  if (role.Properties?.ManagedPolicyArns) throw new Error(`${roleId} has managed policies; the evaluation does not load them`);
  const inline = ((role.Properties?.Policies as Array<{ PolicyName: string; PolicyDocument: unknown }>) ?? []).map((p) => ({
    name: p.PolicyName,
    policy: resolveCfn(p.PolicyDocument, template, env),
  }));
  const attached = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && ((r.Properties?.Roles as unknown[]) ?? []).some((x) => (x as { Ref?: string }).Ref === roleId))
    .map(([id, r]) => ({ name: id, policy: resolveCfn(r.Properties?.PolicyDocument, template, env) }));
  return [...inline, ...attached];
}
