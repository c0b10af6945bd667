# Scheduled detections: Cloud Scheduler calls runDetections with an OIDC token of its own service account (the only
# invoker of that function), the body naming the detections and the window.
resource "google_cloud_scheduler_job" "detections" {
  for_each  = var.detection_schedules
  project   = var.project_id
  region    = var.region
  name      = "${var.name_prefix}-detections-${each.key}"
  schedule  = each.value.schedule
  time_zone = "Etc/UTC"

  http_target {
    uri         = google_cloudfunctions2_function.fn["runDetections"].service_config[0].uri
    http_method = "POST"
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode(jsonencode({ detections = each.value.detections, window = each.value.window }))

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["runDetections"].service_config[0].uri
    }
  }

  retry_config {
    retry_count = 3
  }
}
