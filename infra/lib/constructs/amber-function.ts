/**
 * One Amber Lambda function: the handler at functions/aws/handlers/<name>.ts bundled by the local esbuild
 * (no Docker), Node.js 22 on ARM64, its own role and log group, and exactly the environment the handler
 * contract (functions/aws/handlers/contracts.ts) names for it, plus Powertools' settings.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HANDLER_ENV, type HandlerName } from '../../../functions/aws/handlers/contracts.ts';
import { FUNCTION_DEFAULTS } from '../defaults.ts';

/** The repository root: the bundler's project root and where package-lock.json lives. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The environment variables the contract gives handler `N`, each to be set. */
export type HandlerEnvironment<N extends HandlerName> = { readonly [K in (typeof HANDLER_ENV)[N][number]]: string };

export interface AmberFunctionProps<N extends HandlerName> {
  /** Which handler (functions/aws/handlers/<handlerName>.ts). */
  readonly handlerName: N;
  /** Values of exactly the variables contracts.ts lists for this handler. */
  readonly environment: HandlerEnvironment<N>;
  /** Log retention of the function's log group, in days (a CloudWatch Logs retention value). */
  readonly logRetentionDays: number;
  /** @default 256 MB */
  readonly memorySize?: number;
  /** @default 60 seconds */
  readonly timeout?: Duration;
  /**
   * Reserved concurrency; 1 serialises a function that appends to a custody ledger (S3 has no lock).
   * @default - unreserved
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * For asynchronously invoked functions (EventBridge, Scheduler): where a failed event goes after Lambda's
   * own retries.
   * @default - none (the caller is synchronous: Step Functions, which retries and catches)
   */
  readonly onFailure?: sqs.IQueue;
  /**
   * Ship DuckDB (@duckdb/node-api) beside the bundle: its native bindings cannot be inlined by esbuild, so they are
   * copied from the repository's node_modules (the linux-x64 build package-lock.json pins, about 70 MB unzipped,
   * within Lambda's 250 MB) into the asset's node_modules, and the function runs on x86_64 to match them. No
   * network at synth: the copy is of what `npm ci` installed.
   * @default false
   */
  readonly duckdb?: boolean;
  /**
   * Files the handler reads at run time relative to its bundle (`new URL('./x', import.meta.url)` in the source
   * resolves against index.mjs once bundled): `from` relative to the repository, `to` relative to index.mjs.
   * @default none
   */
  readonly files?: readonly { readonly from: string; readonly to: string }[];
}

/** The DuckDB packages a function with `duckdb: true` carries (the linux-x64 bindings the repository installs). */
export const DUCKDB_PACKAGES: readonly string[] = ['@duckdb/node-api', '@duckdb/node-bindings', '@duckdb/node-bindings-linux-x64'];

/** A NodejsFunction with Amber's defaults; grant it what it needs through `role`. */
export class AmberFunction<N extends HandlerName = HandlerName> extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly handlerName: N;

  constructor(scope: Construct, id: string, props: AmberFunctionProps<N>) {
    super(scope, id);
    this.handlerName = props.handlerName;
    const expected = [...HANDLER_ENV[props.handlerName]].sort();
    const given = Object.keys(props.environment).sort();
    if (expected.join() !== given.join()) {
      throw new Error(
        `AmberFunction ${props.handlerName}: the environment must set exactly ${expected.join(', ')} (functions/aws/handlers/contracts.ts), got ${given.join(', ')}`,
      );
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Amber ${props.handlerName} function`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new NodejsFunction(this, 'Resource', {
      entry: join(REPO_ROOT, 'functions', 'aws', 'handlers', `${props.handlerName}.ts`),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: FUNCTION_DEFAULTS.runtime,
      architecture: props.duckdb ? lambda.Architecture.X86_64 : FUNCTION_DEFAULTS.architecture,
      memorySize: props.memorySize ?? FUNCTION_DEFAULTS.memorySize,
      timeout: props.timeout ?? FUNCTION_DEFAULTS.timeout,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      description: `Amber ${props.handlerName}`,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: FUNCTION_DEFAULTS.powertoolsServiceName,
        POWERTOOLS_LOG_LEVEL: FUNCTION_DEFAULTS.powertoolsLogLevel,
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
        AMBER_HANDLER: props.handlerName,
      },
      ...(props.onFailure
        ? { onFailure: new destinations.SqsDestination(props.onFailure), retryAttempts: 2, maxEventAge: Duration.hours(6) }
        : {}),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        // No source maps: they would need --enable-source-maps at every cold start (scripts/build/lambdas.ts agrees).
        sourceMap: false,
        // The SDK is bundled at the versions package-lock.json pins, not taken from the runtime.
        bundleAwsSDK: true,
        externalModules: props.duckdb ? ['@duckdb/*'] : [],
        // ESM bundles of CommonJS dependencies still call require().
        banner: "import { createRequire as __amberCreateRequire } from 'node:module'; const require = __amberCreateRequire(import.meta.url);",
        // NodejsFunction takes no esbuild plugins, and the SDK schema plugin in scripts/build/lambdas.ts halves
        // the EC2 handlers (about 0.93 MB to 0.42 MB). The same entry is bundled again by that script, with the
        // same options plus the plugins, over the asset's index.mjs: what deploys is what bench:lambda measures.
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [
            `cd "${REPO_ROOT}" && npx tsx scripts/build/lambdas.ts --handler ${props.handlerName} --out "${outputDir}"`,
            ...(props.duckdb
              ? [`mkdir -p "${outputDir}/node_modules/@duckdb"`, ...DUCKDB_PACKAGES.map((p) => `cp -R "${REPO_ROOT}/node_modules/${p}" "${outputDir}/node_modules/@duckdb/"`)]
              : []),
            ...(props.files ?? []).map((f) => `mkdir -p "${dirname(join(outputDir, f.to))}" && cp "${join(REPO_ROOT, f.from)}" "${join(outputDir, f.to)}"`),
          ],
        },
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Amber targets and tests Lambda code on Node.js 22 (README); moving to a newer runtime is a deliberate upgrade with its own test run.',
    });
  }

  /** Adds a statement to the function's role. */
  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}
