output "evidence_bucket" {
  description = "The locker: amber verify --locker gs://<this>."
  value       = google_storage_bucket.evidence.name
}

output "dataset" {
  description = "BigQuery dataset of the detection tables."
  value       = "${var.project_id}.${google_bigquery_dataset.amber.dataset_id}"
}

output "preservation_topic" {
  description = "Topic of Preservation Requested messages."
  value       = google_pubsub_topic.preservation_requests.id
}

output "scc_topic" {
  description = "Topic for the Security Command Center NotificationConfig."
  value       = google_pubsub_topic.scc_findings.id
}

output "preserve_url" {
  description = "AMBER_GCP_PRESERVE_URL for amber preserve --cloud gcp (reachable from inside the VPC)."
  value       = google_cloudfunctions2_function.fn["preserveHttp"].service_config[0].uri
}

output "step_service_account" {
  description = "Service account of the instance steps: give it to each member module (evidence_step_service_account)."
  value       = google_service_account.fn["steps"].email
}

output "inventory_topic" {
  description = "Topic of inventory requests ({\"case\",\"requestId\",\"projects\":[...]})."
  value       = google_pubsub_topic.inventory_requests.id
}

output "inventory_url" {
  description = "URL of the inventoryProject function (reachable from inside the VPC, IAM-authenticated)."
  value       = google_cloudfunctions2_function.fn["inventoryProject"].service_config[0].uri
}
