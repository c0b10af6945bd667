locals {
  tags                = merge({ "amber:component" = "evidence" }, var.tags)
  suffix              = substr(sha256("${data.azurerm_subscription.current.id}/${var.name_prefix}"), 0, 8)
  collector_scopes    = length(var.collector_scopes) > 0 ? var.collector_scopes : [data.azurerm_subscription.current.id]
  # The Activity Log is read per subscription: the subscriptions of the collector scopes.
  activity_log_scopes = distinct([for s in local.collector_scopes : regex("^/subscriptions/[^/]+", s)])
}

# The evidence resource group: the evidence store, the key vault, the function app, and the VM snapshots.
resource "azurerm_resource_group" "amber" {
  name     = "rg-${var.name_prefix}-evidence"
  location = var.location
  tags     = local.tags
}

# --- Customer-managed key -------------------------------------------------------------------------------------

resource "azurerm_key_vault" "amber" {
  name                = "kv-${var.name_prefix}-${local.suffix}"
  location            = azurerm_resource_group.amber.location
  resource_group_name = azurerm_resource_group.amber.name
  tenant_id           = data.azurerm_client_config.current.tenant_id
  sku_name            = "standard"
  # Storage CMK requires both: a deleted or purged key would make the evidence unreadable.
  purge_protection_enabled   = true
  soft_delete_retention_days = 90
  enable_rbac_authorization  = true
  tags                       = local.tags
}

# Exception (deployer only): the identity running Terraform must create the key; it gets crypto officer on
# this vault alone, not on the subscription.
resource "azurerm_role_assignment" "deployer_keys" {
  scope                = azurerm_key_vault.amber.id
  role_definition_name = "Key Vault Crypto Officer"
  principal_id         = data.azurerm_client_config.current.object_id
}

resource "azurerm_key_vault_key" "evidence" {
  name         = "evidence-cmk"
  key_vault_id = azurerm_key_vault.amber.id
  key_type     = "RSA"
  key_size     = 3072
  key_opts     = ["wrapKey", "unwrapKey"]
  rotation_policy {
    automatic {
      time_before_expiry = "P30D"
    }
    expire_after         = "P2Y"
    notify_before_expiry = "P29D"
  }
  depends_on = [azurerm_role_assignment.deployer_keys]
}

# The storage account's own identity, which unwraps its data encryption key with the CMK.
resource "azurerm_user_assigned_identity" "storage_cmk" {
  name                = "id-${var.name_prefix}-storage-cmk"
  location            = azurerm_resource_group.amber.location
  resource_group_name = azurerm_resource_group.amber.name
  tags                = local.tags
}

resource "azurerm_role_assignment" "storage_cmk" {
  # Scoped to the one key (its versionless id), not the vault.
  scope                = azurerm_key_vault_key.evidence.resource_versionless_id
  role_definition_name = "Key Vault Crypto Service Encryption User"
  principal_id         = azurerm_user_assigned_identity.storage_cmk.principal_id
}

# --- Signing key of the custody ledger ------------------------------------------------------------------------
# Key Vault has no Ed25519: an EC P-256 key signs ES256 (functions/azure/adapters/key-vault-signer.ts). A case
# records this key's public key and keeps it: no rotation policy, since a rotated key could not extend a case it
# signed. Purge protection (the vault's) keeps a deleted key recoverable for 90 days. A premium vault can hold it
# as EC-HSM instead; the functions accept either.
resource "azurerm_key_vault_key" "signing" {
  name         = "amber-signing"
  key_vault_id = azurerm_key_vault.amber.id
  key_type     = "EC"
  curve        = "P-256"
  key_opts     = ["sign", "verify"]
  tags         = local.tags
  depends_on   = [azurerm_role_assignment.deployer_keys]
}
