# --- The function app (Flex Consumption, Node.js 22, system-assigned managed identity) --------------------------

resource "azurerm_log_analytics_workspace" "amber" {
  name                = "log-${var.name_prefix}-${local.suffix}"
  location            = azurerm_resource_group.amber.location
  resource_group_name = azurerm_resource_group.amber.name
  sku                 = "PerGB2018"
  retention_in_days   = 90
  tags                = local.tags
}

resource "azurerm_application_insights" "amber" {
  name                       = "appi-${var.name_prefix}-${local.suffix}"
  location                   = azurerm_resource_group.amber.location
  resource_group_name        = azurerm_resource_group.amber.name
  workspace_id               = azurerm_log_analytics_workspace.amber.id
  application_type           = "Node.JS"
  local_authentication_disabled = true
  tags                       = local.tags
}

resource "azurerm_service_plan" "amber" {
  name                = "asp-${var.name_prefix}-${local.suffix}"
  location            = azurerm_resource_group.amber.location
  resource_group_name = azurerm_resource_group.amber.name
  os_type             = "Linux"
  sku_name            = "FC1"
  tags                = local.tags
}

resource "azurerm_function_app_flex_consumption" "amber" {
  name                = "func-${var.name_prefix}-${local.suffix}"
  location            = azurerm_resource_group.amber.location
  resource_group_name = azurerm_resource_group.amber.name
  service_plan_id     = azurerm_service_plan.amber.id

  storage_container_type      = "blobContainer"
  storage_container_endpoint  = "${azurerm_storage_account.functions.primary_blob_endpoint}${azurerm_storage_container.package.name}"
  storage_authentication_type = "SystemAssignedIdentity"

  runtime_name           = "node"
  runtime_version        = "22"
  maximum_instance_count = 40
  instance_memory_in_mb  = 2048
  https_only             = true

  identity {
    type = "SystemAssigned"
  }

  site_config {
    minimum_tls_version = "1.2"
  }

  app_settings = {
    AzureWebJobsStorage__accountName           = azurerm_storage_account.functions.name
    APPLICATIONINSIGHTS_CONNECTION_STRING      = azurerm_application_insights.amber.connection_string
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING  = "Authorization=AAD"
    AMBER_LOCKER                               = "azblob://${azurerm_storage_account.evidence.name}/${azurerm_storage_container.evidence.name}"
    AMBER_SNAPSHOT_RESOURCE_GROUP              = azurerm_resource_group.amber.name
    AMBER_RETENTION_DAYS                       = tostring(var.retention_days)
    AMBER_DEFENDER_MIN_SEVERITY                = var.defender_min_severity
    AMBER_DEFAULT_LOG_WINDOW_HOURS             = tostring(var.default_log_window_hours)
    AMBER_DETECTION_SCHEDULE                   = var.detection_schedule
    AMBER_DETECTION_WINDOW                     = var.detection_window
    AMBER_PRINCIPAL                            = "func-${var.name_prefix}-${local.suffix}"
    AMBER_LOG_TENANT_ID                        = var.log_tenant_id
    AMBER_LOG_BUDGET_SECONDS                   = tostring(var.log_budget_seconds)
    AMBER_INVENTORY_ON_PRESERVE                = tostring(var.inventory_on_preserve)
    AMBER_SIGNING_KEY                          = azurerm_key_vault_key.signing.versionless_id
    AMBER_LOG_ENTRA_RISK                       = tostring(var.preserve_entra_risk)
    AMBER_LOG_AZURE_STATE                      = tostring(var.preserve_azure_state)
  }

  tags = local.tags
}
