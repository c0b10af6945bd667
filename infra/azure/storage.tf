# --- The evidence store: write-once blobs ---------------------------------------------------------------------

resource "azurerm_storage_account" "evidence" {
  name                     = "st${var.name_prefix}ev${local.suffix}"
  resource_group_name      = azurerm_resource_group.amber.name
  location                 = azurerm_resource_group.amber.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = "ZRS"

  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  shared_access_key_enabled         = false
  allow_nested_items_to_be_public   = false
  default_to_oauth_authentication   = true
  infrastructure_encryption_enabled = true
  cross_tenant_replication_enabled  = false

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.storage_cmk.id]
  }

  customer_managed_key {
    key_vault_key_id          = azurerm_key_vault_key.evidence.versionless_id
    user_assigned_identity_id = azurerm_user_assigned_identity.storage_cmk.id
  }

  # Version-level immutability (WORM) for every blob version of the account: a preserved object can be
  # neither changed nor deleted before retention_days have passed, by anyone, Amber's identity included.
  # Protected append writes: the custody ledger is an append blob (functions/azure/adapters/blob-object-store.ts),
  # and this lets new blocks be appended to it while every byte already written stays immutable; block blobs
  # (the evidence itself) are not affected by it.
  immutability_policy {
    state                         = var.immutability_state
    period_since_creation_in_days = var.retention_days
    allow_protected_append_writes = true
  }

  blob_properties {
    versioning_enabled  = true
    change_feed_enabled = true
    delete_retention_policy {
      days = 365
    }
    container_delete_retention_policy {
      days = 365
    }
  }

  tags       = local.tags
  depends_on = [azurerm_role_assignment.storage_cmk]
}

# Preserved objects, manifests and the custody ledger (cases/<case>/...), and findings.
resource "azurerm_storage_container" "evidence" {
  name                  = "evidence"
  storage_account_id    = azurerm_storage_account.evidence.id
  container_access_type = "private"
}

# Ledger anchors: the signed ledger heads kept apart from the cases they anchor.
resource "azurerm_storage_container" "ledger" {
  name                  = "ledger"
  storage_account_id    = azurerm_storage_account.evidence.id
  container_access_type = "private"
}

# --- The function app's own storage (host state and deployment package, never evidence) -----------------------

resource "azurerm_storage_account" "functions" {
  name                            = "st${var.name_prefix}fn${local.suffix}"
  resource_group_name             = azurerm_resource_group.amber.name
  location                        = azurerm_resource_group.amber.location
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
  default_to_oauth_authentication = true
  tags                            = local.tags
}

resource "azurerm_storage_container" "package" {
  name                  = "app-package"
  storage_account_id    = azurerm_storage_account.functions.id
  container_access_type = "private"
}
