# --- What the function's managed identity may do: least privilege ---------------------------------------------
# Never Owner, Contributor or User Access Administrator. Built-in data roles are scoped to single containers;
# control-plane actions come from custom roles listing exactly the ARM operations the adapters call
# (functions/azure/adapters/managed-disk-snapshot-provider.ts).

locals {
  function_principal = azurerm_function_app_flex_consumption.amber.identity[0].principal_id
}

# Read-only view of the VMs to preserve: metadata, disks, network, boot diagnostics.
resource "azurerm_role_definition" "collector" {
  name        = "Amber VM evidence reader (${local.suffix})"
  scope       = data.azurerm_subscription.current.id
  description = "Reads what Amber preserves about a VM. No write to any VM, disk or network resource."
  permissions {
    actions = [
      "Microsoft.Compute/virtualMachines/read",
      "Microsoft.Compute/virtualMachines/instanceView/read",
      "Microsoft.Compute/virtualMachines/extensions/read",
      # Returns short-lived SAS URLs of the screenshot and serial log; Amber keeps the log, never the tokens.
      "Microsoft.Compute/virtualMachines/retrieveBootDiagnosticsData/action",
      "Microsoft.Compute/disks/read",
      "Microsoft.Network/networkInterfaces/read",
      # A read, despite the name: ARM computes the effective rules of a NIC (a POST).
      "Microsoft.Network/networkInterfaces/effectiveNetworkSecurityGroups/action",
      "Microsoft.Network/networkSecurityGroups/read",
      "Microsoft.Network/publicIPAddresses/read",
    ]
    not_actions = []
  }
  assignable_scopes = [data.azurerm_subscription.current.id]
}

# Snapshots are written only into the evidence resource group.
resource "azurerm_role_definition" "snapshots" {
  name        = "Amber snapshot writer (${local.suffix})"
  scope       = azurerm_resource_group.amber.id
  description = "Creates and reads incremental snapshots in the evidence resource group, and exports them as VHDs (read SAS). No delete."
  permissions {
    actions = [
      "Microsoft.Compute/snapshots/read",
      "Microsoft.Compute/snapshots/write",
      # The VHD export (exportVhd requests): a read-only SAS of the snapshot, revoked after the copy.
      "Microsoft.Compute/snapshots/beginGetAccess/action",
      "Microsoft.Compute/snapshots/endGetAccess/action",
    ]
    not_actions = []
  }
  assignable_scopes = [azurerm_resource_group.amber.id]
}

# Only with enable_isolation: the quarantine NSG and its attachment to the VMs' NICs.
resource "azurerm_role_definition" "isolation" {
  count       = var.enable_isolation ? 1 : 0
  name        = "Amber VM isolation (${local.suffix})"
  scope       = data.azurerm_subscription.current.id
  description = "Creates the deny-all quarantine NSG and attaches it to a VM's network interfaces."
  permissions {
    actions = [
      "Microsoft.Network/networkSecurityGroups/write",
      "Microsoft.Network/networkSecurityGroups/join/action",
      "Microsoft.Network/networkInterfaces/write",
    ]
    not_actions = []
  }
  assignable_scopes = [data.azurerm_subscription.current.id]
}

# The Activity Log of a request's window: one read action, instead of Reader (which reads every resource).
resource "azurerm_role_definition" "activity_log" {
  name        = "Amber Activity Log reader (${local.suffix})"
  scope       = data.azurerm_subscription.current.id
  description = "Reads the subscription's Activity Log (Azure Monitor event types). Nothing else."
  permissions {
    actions     = ["Microsoft.Insights/eventtypes/values/read"]
    not_actions = []
  }
  assignable_scopes = local.activity_log_scopes
}

# Exception: assigned at subscription scope even when collector_scopes are resource groups, because the
# Activity Log API (/subscriptions/{id}/providers/Microsoft.Insights/eventtypes/management/values) is per subscription.
resource "azurerm_role_assignment" "activity_log" {
  for_each           = toset(local.activity_log_scopes)
  scope              = each.value
  role_definition_id = azurerm_role_definition.activity_log.role_definition_resource_id
  principal_id       = local.function_principal
}

# The estate inventory (functions/azure/adapters/inventory-source.ts): the Resource Graph query action, and a read
# of exactly the resource types it asks Resource Graph about (Resource Graph returns only what the caller may read),
# the role assignments and definitions, and the subscription's diagnostic settings; not Reader, which reads
# everything. No listKeys or any other action that returns a secret.
resource "azurerm_role_definition" "inventory" {
  name        = "Amber inventory reader (${local.suffix})"
  scope       = data.azurerm_subscription.current.id
  description = "Reads the configuration Amber inventories (Resource Graph). No write, no key or secret."
  permissions {
    actions = [
      "Microsoft.ResourceGraph/resources/read",
      "Microsoft.Resources/subscriptions/read",
      "Microsoft.Compute/virtualMachines/read",
      "Microsoft.Compute/disks/read",
      "Microsoft.Compute/snapshots/read",
      "Microsoft.Network/networkInterfaces/read",
      "Microsoft.Network/publicIPAddresses/read",
      "Microsoft.Network/networkSecurityGroups/read",
      "Microsoft.Network/virtualNetworks/read",
      "Microsoft.Storage/storageAccounts/read",
      "Microsoft.KeyVault/vaults/read",
      "Microsoft.Web/sites/read",
      # Reads only: who holds which role (no role or assignment can be written with these).
      "Microsoft.Authorization/roleAssignments/read",
      "Microsoft.Authorization/roleDefinitions/read",
      "Microsoft.Insights/diagnosticSettings/read",
    ]
    not_actions = []
  }
  assignable_scopes = local.activity_log_scopes
}

# Exception: at subscription scope, like the Activity Log reader: Resource Graph and the subscription's diagnostic
# settings are queried per subscription.
resource "azurerm_role_assignment" "inventory" {
  for_each           = toset(local.activity_log_scopes)
  scope              = each.value
  role_definition_id = azurerm_role_definition.inventory.role_definition_resource_id
  principal_id       = local.function_principal
}

resource "azurerm_role_assignment" "collector" {
  for_each           = toset(local.collector_scopes)
  scope              = each.value
  role_definition_id = azurerm_role_definition.collector.role_definition_resource_id
  principal_id       = local.function_principal
}

resource "azurerm_role_assignment" "snapshots" {
  scope              = azurerm_resource_group.amber.id
  role_definition_id = azurerm_role_definition.snapshots.role_definition_resource_id
  principal_id       = local.function_principal
}

# Exception: isolation acts on VMs wherever they are, so it is assigned on the collector scopes (off by default).
resource "azurerm_role_assignment" "isolation" {
  for_each           = var.enable_isolation ? toset(local.collector_scopes) : toset([])
  scope              = each.value
  role_definition_id = azurerm_role_definition.isolation[0].role_definition_resource_id
  principal_id       = local.function_principal
}

# Evidence data: the evidence container only (write-once is enforced by the account's immutability policy).
resource "azurerm_role_assignment" "evidence_data" {
  scope                = azurerm_storage_container.evidence.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = local.function_principal
}

# Ledger anchors: the ledger container only.
resource "azurerm_role_assignment" "ledger_data" {
  scope                = azurerm_storage_container.ledger.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = local.function_principal
}

# Exception: the Functions host keeps its state (leases, timers, keys) in its own storage account through
# identity-based AzureWebJobsStorage, which Microsoft documents as needing Storage Blob Data Owner on that account.
# It holds no evidence.
resource "azurerm_role_assignment" "host_storage" {
  scope                = azurerm_storage_account.functions.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = local.function_principal
}

# Telemetry with Entra ID authentication (local auth is disabled on Application Insights).
resource "azurerm_role_assignment" "telemetry" {
  scope                = azurerm_application_insights.amber.id
  role_definition_name = "Monitoring Metrics Publisher"
  principal_id         = local.function_principal
}

# Signs with the ledger's key and reads its public key, on that one key: the two data actions of "Key Vault
# Crypto User" Amber calls (keys/get, keys/sign), without its encrypt, decrypt, wrap and unwrap.
resource "azurerm_role_definition" "signing" {
  name        = "Amber custody signer (${local.suffix})"
  scope       = azurerm_resource_group.amber.id
  description = "Reads the Amber signing key's public key and signs with it. No other key operation, no key management."
  permissions {
    actions = []
    data_actions = [
      "Microsoft.KeyVault/vaults/keys/read",
      "Microsoft.KeyVault/vaults/keys/sign/action",
    ]
    not_actions      = []
    not_data_actions = []
  }
  assignable_scopes = [azurerm_resource_group.amber.id]
}

resource "azurerm_role_assignment" "signing" {
  # The one key (its versionless id), not the vault: the CMK beside it stays out of reach.
  scope              = azurerm_key_vault_key.signing.resource_versionless_id
  role_definition_id = azurerm_role_definition.signing.role_definition_resource_id
  principal_id       = local.function_principal
}
