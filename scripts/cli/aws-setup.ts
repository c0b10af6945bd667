/**
 * The CLI's words for a machine without an AWS region or credentials, shared by the S3 and the `preserve`
 * wiring. No SDK import: loading this file costs nothing.
 */
import { InvalidInputError } from '../../shared/errors.ts';

const CHAIN = 'environment variables, the AWS_PROFILE profile in ~/.aws/config and ~/.aws/credentials, SSO, a container or instance role';

function profileOf(env: Readonly<Record<string, string | undefined>>): string {
  return env.AWS_PROFILE ? `the profile ${env.AWS_PROFILE} (AWS_PROFILE)` : 'the default profile';
}

/** No region for `target` (an s3:// URI, a call): names AWS_REGION and the profile. */
export function noRegionError(target: string, env: Readonly<Record<string, string | undefined>>, cause?: unknown): InvalidInputError {
  return new InvalidInputError(`no AWS region is set for ${target}: neither AWS_REGION nor ${profileOf(env)} names one`, {
    hint: 'set AWS_REGION to the bucket\'s region (e.g. export AWS_REGION=eu-west-1), or add "region = ..." to the profile in ~/.aws/config',
    cause,
  });
}

/**
 * No usable credentials for `target`: names the default credential chain and how to give it credentials. The
 * SDK's own words are kept only when they say more than "Could not load credentials from any providers" (an
 * unknown profile, an expired SSO session).
 */
export function noCredentialsError(target: string, env: Readonly<Record<string, string | undefined>>, cause: unknown): InvalidInputError {
  const said = cause instanceof Error ? cause.message.split('\n')[0]!.trim() : '';
  const generic = said === '' || /could not load credentials from any providers/i.test(said);
  const profile = env.AWS_PROFILE ? ` (AWS_PROFILE is ${env.AWS_PROFILE}: is that profile in ~/.aws/config, with credentials?)` : '';
  return new InvalidInputError(
    generic
      ? `no AWS credentials for ${target}: the default credential chain (${CHAIN}) found none${profile}`
      : `the AWS credentials for ${target} could not be loaded from ${profileOf(env)}: ${said}`,
    {
      hint: 'set AWS_PROFILE to a profile in ~/.aws/config (for an SSO profile run `aws sso login --profile NAME` first), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role is attached',
      cause,
    },
  );
}
