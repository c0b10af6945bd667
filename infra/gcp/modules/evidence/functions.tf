# One gen2 function per entry point of the bundle (functions/gcp/index.ts), each with its own service account and
# only the roles it needs (iam.tf), internal ingress only: Pub/Sub, Eventarc, Workflows and Cloud Scheduler reach
# internal services; a responder calls preserveHttp from inside the VPC.
locals {
  functions = {
    preservationRequested = { sa = "start", trigger = "preservation_requests" }
    sccFinding            = { sa = "start", trigger = "scc_findings" }
    preserveHttp          = { sa = "start", trigger = null }
    captureInstance       = { sa = "steps", trigger = null }
    createSnapshots       = { sa = "steps", trigger = null }
    checkSnapshots        = { sa = "steps", trigger = null }
    isolateInstance       = { sa = "steps", trigger = null }
    copySnapshots         = { sa = "steps", trigger = null }
    preserveLogs          = { sa = "steps", trigger = null }
    runDetections         = { sa = "detect", trigger = null }
    # Cloud Asset Inventory of member projects: first step of the instance workflow, and on demand.
    inventoryProject   = { sa = "steps", trigger = null }
    inventoryRequested = { sa = "steps", trigger = "inventory_requests" }
  }
  topics = {
    preservation_requests = google_pubsub_topic.preservation_requests.id
    scc_findings          = google_pubsub_topic.scc_findings.id
    inventory_requests    = google_pubsub_topic.inventory_requests.id
  }
  workflow_ids = {
    instance = "projects/${var.project_id}/locations/${var.region}/workflows/${var.name_prefix}-instance"
    logs     = "projects/${var.project_id}/locations/${var.region}/workflows/${var.name_prefix}-logs"
  }
  env = {
    start = {
      INSTANCE_WORKFLOW        = local.workflow_ids.instance
      LOG_WORKFLOW             = local.workflow_ids.logs
      SCC_MIN_SEVERITY         = var.scc_min_severity
      DEFAULT_LOG_WINDOW_HOURS = "24"
      LOG_SINK                 = var.scc_log_sink == null ? "" : var.scc_log_sink
    }
    steps = {
      EVIDENCE_LOCKER = "gs://${google_storage_bucket.evidence.name}"
      RETENTION_DAYS  = tostring(var.retention_days)
      # Member project -> collector service account the steps impersonate.
      COLLECTOR_SERVICE_ACCOUNTS = jsonencode(var.collector_service_accounts)
      # Evidence copies of snapshots (images) are made here; the member modules' snapshot_reader role lets them.
      EVIDENCE_PROJECT     = var.project_id
      SNAPSHOT_READER_ROLE = "${replace(var.name_prefix, "-", "_")}_snapshot_reader"
    }
    detect = {
      EVIDENCE_LOCKER   = "gs://${google_storage_bucket.evidence.name}"
      BIGQUERY_PROJECT  = var.project_id
      BIGQUERY_DATASET  = google_bigquery_dataset.amber.dataset_id
      BIGQUERY_LOCATION = var.location
    }
  }
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  project  = var.project_id
  location = var.region
  name     = "${var.name_prefix}-${lower(replace(each.key, "/([A-Z])/", "-$1"))}"

  build_config {
    runtime     = "nodejs22"
    entry_point = each.key
    source {
      storage_source {
        bucket = var.function_source_bucket
        object = var.function_source_object
      }
    }
  }

  service_config {
    service_account_email          = google_service_account.fn[each.value.sa].email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    available_memory               = each.value.sa == "detect" ? "512M" : "256M"
    timeout_seconds                = each.value.sa == "detect" ? 540 : 300
    max_instance_count             = 10
    environment_variables = merge(local.env[each.value.sa], {
      AMBER_SERVICE_ACCOUNT = google_service_account.fn[each.value.sa].email
    })
  }

  dynamic "event_trigger" {
    for_each = each.value.trigger == null ? [] : [each.value.trigger]
    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = local.topics[event_trigger.value]
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.trigger.email
    }
  }
}
