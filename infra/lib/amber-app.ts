/**
 * The whole CDK app: configuration read once from context, the evidence stack, the member-account stack and
 * cdk-nag's AwsSolutions checks on everything. infra/bin/app.ts runs it; tests build it with their own context.
 */
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Detection } from '../../shared/detections/catalogue.ts';
import { readConfig, type AmberConfig } from './config.ts';
import { EvidenceStack } from './stacks/evidence-stack.ts';
import { MemberAccountStack } from './stacks/member-account-stack.ts';

export interface AmberAppOptions {
  readonly detections: readonly Detection[];
  /** @default - a plain App, which reads cdk.json's context through the CLI */
  readonly appProps?: AppProps;
  /** Account and region when context does not pin them (the CLI's CDK_DEFAULT_ACCOUNT / _REGION). */
  readonly defaultEnv?: { readonly account?: string; readonly region?: string };
  /** Run cdk-nag's AwsSolutions checks during synthesis. @default true */
  readonly nag?: boolean;
}

export interface AmberApp {
  readonly app: App;
  readonly config: AmberConfig;
  readonly evidence: EvidenceStack;
  readonly member: MemberAccountStack;
}

/** Builds both stacks from context; throws ConfigError listing every bad context value. */
export function createAmberApp(options: AmberAppOptions): AmberApp {
  const app = new App(options.appProps);
  const config = readConfig((key) => app.node.tryGetContext(key));
  const account = config.evidenceAccountId ?? options.defaultEnv?.account;
  const region = config.evidenceRegion ?? options.defaultEnv?.region;
  const env = account || region ? { ...(account ? { account } : {}), ...(region ? { region } : {}) } : undefined;

  const evidence = new EvidenceStack(app, 'AmberEvidence', {
    description: 'Amber evidence account: Object Lock evidence bucket, Athena detections, preservation state machines',
    env,
    config,
    detections: options.detections,
  });
  const member = new MemberAccountStack(app, 'AmberMember', {
    description: 'Amber member account: collector role for the evidence account' + (config.singleAccount ? '' : ', event forwarding'),
    // Single-account mode deploys next to the evidence stack; a member stack is otherwise account-agnostic.
    env: config.singleAccount ? env : region ? { region } : undefined,
    config,
    evidenceAccountId: config.evidenceAccountId ?? evidence.account,
    evidenceStackName: evidence.stackName,
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, config, evidence, member };
}
