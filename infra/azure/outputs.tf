output "resource_group" {
  description = "The evidence resource group (evidence store, key vault, function app, snapshots)."
  value       = azurerm_resource_group.amber.name
}

output "evidence_locker" {
  description = "The locker URI for amber --locker."
  value       = "azblob://${azurerm_storage_account.evidence.name}/${azurerm_storage_container.evidence.name}"
}

output "function_app_name" {
  value = azurerm_function_app_flex_consumption.amber.name
}

output "preserve_url" {
  description = "What amber preserve --cloud azure posts to (set AMBER_AZURE_FUNCTION_URL; the function key goes in AMBER_AZURE_FUNCTION_KEY)."
  value       = "https://${azurerm_function_app_flex_consumption.amber.default_hostname}/api/preserve"
}

output "defender_alert_url" {
  description = "Where the Defender for Cloud workflow automation's Logic App posts alerts."
  value       = "https://${azurerm_function_app_flex_consumption.amber.default_hostname}/api/defender-alert"
}

output "function_principal_id" {
  description = "Object id of the function app's system-assigned managed identity."
  value       = azurerm_function_app_flex_consumption.amber.identity[0].principal_id
}

output "event_grid_topic_endpoint" {
  value = azurerm_eventgrid_topic.amber.endpoint
}

output "graph_application_permissions" {
  description = "Microsoft Graph application permissions to grant Amber's app registration (admin consent)."
  value       = var.graph_application_permissions
}

output "management_api_application_permissions" {
  description = "Office 365 Management Activity API application permissions to grant Amber's app registration."
  value       = var.management_api_application_permissions
}

output "signing_key_id" {
  description = "The Key Vault key that signs every case's seals and checkpoints (ES256): amber --signing-key akv:<this>."
  value       = azurerm_key_vault_key.signing.versionless_id
}

output "risk_state_graph_permissions" {
  description = "Microsoft Graph application permissions to grant as well when preserve_entra_risk or preserve_azure_state is true (empty otherwise)."
  value       = var.preserve_entra_risk || var.preserve_azure_state ? var.risk_state_graph_permissions : []
}
