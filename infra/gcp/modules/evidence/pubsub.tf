# Topics that start preservation: "Preservation Requested" messages (amber preserve, or anyone allowed to publish)
# and Security Command Center finding notifications (create the organisation's NotificationConfig on this topic).
resource "google_pubsub_topic" "preservation_requests" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-preservation-requests"
  message_retention_duration = "604800s"
}

resource "google_pubsub_topic" "scc_findings" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-scc-findings"
  message_retention_duration = "604800s"
}

# Inventories on demand: {"case":"C","requestId":"R","projects":["member-project"]} (the inventoryRequested function).
resource "google_pubsub_topic" "inventory_requests" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-inventory-requests"
  message_retention_duration = "604800s"
}
