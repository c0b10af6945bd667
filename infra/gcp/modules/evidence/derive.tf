# deriveObject: every object finalized in the evidence bucket (Eventarc, Cloud Storage direct event) becomes rows
# of its BigQuery table (bigquery.tf). Its own bundle (dist/functions-gcp-derive.zip: the log parsers), its own
# service account with the locker writer role on the evidence bucket only, internal ingress, invoked only by the
# trigger service account. Objects the function writes (derived/...) trigger it too and are ignored by it.

resource "google_service_account" "derive" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-fn-derive"
  display_name = "Amber functions (derive: evidence objects into BigQuery rows)"
}

# Read the evidence it derives from, create the derived objects with their locked retention, append the ledger.
resource "google_storage_bucket_iam_member" "derive_locker" {
  bucket = google_storage_bucket.evidence.name
  role   = google_project_iam_custom_role.locker_writer.id
  member = "serviceAccount:${google_service_account.derive.email}"
}

resource "google_cloudfunctions2_function" "derive" {
  project  = var.project_id
  location = var.region
  name     = "${var.name_prefix}-derive-object"

  build_config {
    runtime     = "nodejs22"
    entry_point = "deriveObject"
    source {
      storage_source {
        bucket = var.function_source_bucket
        object = var.derive_source_object
      }
    }
  }

  service_config {
    service_account_email          = google_service_account.derive.email
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    # An object is read whole and parsed in memory (at most 64 MiB, inflated up to 256 MiB).
    available_memory   = "2Gi"
    timeout_seconds    = 300
    max_instance_count = 10
    environment_variables = {
      EVIDENCE_LOCKER       = "gs://${google_storage_bucket.evidence.name}"
      RETENTION_DAYS        = tostring(var.retention_days)
      AMBER_SERVICE_ACCOUNT = google_service_account.derive.email
    }
  }

  event_trigger {
    # A Cloud Storage trigger lives where the bucket does.
    trigger_region        = lower(var.location)
    event_type            = "google.cloud.storage.object.v1.finalized"
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.trigger.email
    event_filters {
      attribute = "bucket"
      value     = google_storage_bucket.evidence.name
    }
  }

  depends_on = [google_project_iam_member.gcs_publishes_events, google_project_iam_member.trigger_receives_events]
}

resource "google_cloud_run_v2_service_iam_member" "trigger_invokes_derive" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.derive.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

# Cloud Storage direct events: the project's Cloud Storage service agent publishes them to Eventarc's Pub/Sub
# transport, and the trigger's service account receives them. Both roles exist only at project level.
data "google_storage_project_service_account" "gcs" {
  project = var.project_id
}

resource "google_project_iam_member" "gcs_publishes_events" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

resource "google_project_iam_member" "trigger_receives_events" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.trigger.email}"
}
