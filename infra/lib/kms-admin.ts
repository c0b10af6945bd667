/**
 * KMS key administration every Amber key's policy leaves with the account: reading and editing its policy,
 * tags, description and aliases, revoking grants, re-enabling it and cancelling a scheduled deletion. Each key
 * adds what fits its kind (rotation for the symmetric evidence key). Left out on purpose, for every key:
 * scheduling deletion, disabling, creating grants, and any use of the key.
 */
export const KEY_ADMIN_COMMON_ACTIONS = [
  'kms:ListKeyPolicies',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:ListAliases',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:EnableKey',
  'kms:CancelKeyDeletion',
] as const;
