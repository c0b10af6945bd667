# Service accounts and their roles, least privilege. Every grant is on the narrowest resource that has IAM
# (a bucket, a dataset, a function's Cloud Run service); the project-level exceptions say why.

resource "google_service_account" "fn" {
  for_each     = toset(["start", "steps", "detect"])
  project      = var.project_id
  account_id   = "${var.name_prefix}-fn-${each.key}"
  display_name = "Amber functions (${each.key})"
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-trigger"
  display_name = "Amber Pub/Sub triggers (invokes the start functions)"
}

resource "google_service_account" "workflow" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-workflow"
  display_name = "Amber workflows (invokes the step functions)"
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-scheduler"
  display_name = "Amber scheduler (invokes runDetections with an OIDC token)"
}

# start: create and list executions of the two workflows. Workflows has no per-workflow IAM, so the grant is on the
# project, through a custom role holding exactly those two permissions (roles/workflows.invoker also reads results).
resource "google_project_iam_custom_role" "workflow_starter" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_workflow_starter"
  title       = "Amber workflow starter"
  permissions = ["workflows.executions.create", "workflows.executions.list"]
}

resource "google_project_iam_member" "start_workflows" {
  project = var.project_id
  role    = google_project_iam_custom_role.workflow_starter.id
  member  = "serviceAccount:${google_service_account.fn["start"].email}"
}

# The evidence locker's writers: create objects with their locked retention (setRetention), read and list them,
# read the bucket's retention and versioning settings, write the amber-sha256 metadata after a resumable upload
# (update), and replace the custody ledger on each append (delete: in a versioned bucket a replaced generation is
# kept as noncurrent). Locked objects cannot be deleted or replaced before their retention ends whatever the role.
resource "google_project_iam_custom_role" "locker_writer" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_locker_writer"
  title       = "Amber evidence locker writer"
  description = "Write-once evidence objects with locked retention, and appends to the custody ledger"
  permissions = [
    "storage.buckets.get",
    "storage.objects.create",
    "storage.objects.delete",
    "storage.objects.get",
    "storage.objects.list",
    "storage.objects.setRetention",
    "storage.objects.update",
  ]
}

# steps: write and read evidence in the locker only.
resource "google_storage_bucket_iam_member" "steps_create" {
  bucket = google_storage_bucket.evidence.name
  role   = google_project_iam_custom_role.locker_writer.id
  member = "serviceAccount:${google_service_account.fn["steps"].email}"
}

# steps: make the evidence copies of member snapshots (images made from them) and follow them. Images are project
# resources with no IAM of their own at creation, so the grant is on the evidence project, through a custom role
# holding exactly these. Reading a source snapshot needs compute.snapshots.useReadOnly, granted per snapshot by the
# member project's collector (member module, snapshot_reader).
resource "google_project_iam_custom_role" "evidence_copier" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_evidence_copier"
  title       = "Amber evidence copier"
  permissions = ["compute.images.create", "compute.images.get", "compute.globalOperations.get"]
}

resource "google_project_iam_member" "steps_copy" {
  project = var.project_id
  role    = google_project_iam_custom_role.evidence_copier.id
  member  = "serviceAccount:${google_service_account.fn["steps"].email}"
}

# detect: run query jobs (jobs are project resources: jobUser exists only at project level), read the dataset,
# read the locker (external tables) and write findings to it (the locker writer role: get, list, create).
resource "google_project_iam_member" "detect_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.fn["detect"].email}"
}

resource "google_bigquery_dataset_iam_member" "detect_read" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.amber.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = "serviceAccount:${google_service_account.fn["detect"].email}"
}

resource "google_storage_bucket_iam_member" "detect_create" {
  bucket = google_storage_bucket.evidence.name
  role   = google_project_iam_custom_role.locker_writer.id
  member = "serviceAccount:${google_service_account.fn["detect"].email}"
}

# Invokers, per function service: Pub/Sub triggers -> start functions, Workflows -> steps, Scheduler -> detections.
resource "google_cloud_run_v2_service_iam_member" "trigger_invokes" {
  for_each = toset(["preservationRequested", "sccFinding", "inventoryRequested"])
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

resource "google_cloud_run_v2_service_iam_member" "workflow_invokes" {
  for_each = toset(["inventoryProject", "captureInstance", "createSnapshots", "checkSnapshots", "copySnapshots", "isolateInstance", "preserveLogs"])
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.workflow.email}"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["runDetections"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}
