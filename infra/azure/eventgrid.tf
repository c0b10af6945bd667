# --- Event Grid: the preservation topic and its subscription to the function --------------------------------

resource "azurerm_eventgrid_topic" "amber" {
  name                = "evgt-${var.name_prefix}-${local.suffix}"
  location            = azurerm_resource_group.amber.location
  resource_group_name = azurerm_resource_group.amber.name
  input_schema        = "EventGridSchema"
  # Publishers authenticate with Entra ID (EventGrid Data Sender on this topic), never with access keys.
  local_auth_enabled = false
  tags               = local.tags
}

resource "azurerm_eventgrid_event_subscription" "preservation" {
  name  = "amber-preservation"
  scope = azurerm_eventgrid_topic.amber.id

  azure_function_endpoint {
    function_id                       = "${azurerm_function_app_flex_consumption.amber.id}/functions/preservation-event"
    max_events_per_batch              = 1
    preferred_batch_size_in_kilobytes = 64
  }

  included_event_types = ["Amber.PreservationRequested", "Amber.DefenderAlert"]

  # Redelivery is safe (snapshot names, tags and ledger keys derive from the request): retry for a day.
  retry_policy {
    max_delivery_attempts = 30
    event_time_to_live    = 1440
  }
}
