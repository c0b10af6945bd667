# The member module, applied in each customer project: a collector service account that the evidence project's
# instance steps impersonate (short-lived tokens through iam.serviceAccountTokenCreator on this account only; no
# keys exist), with two custom roles: read and snapshot, and (only when allowed) isolate; it reads the project's
# Cloud Audit Logs (and, when named, a log sink bucket's objects) for log preservation, and its Cloud Asset
# Inventory (roles/cloudasset.viewer) for the inventory step.

variable "project_id" {
  description = "The customer (member) project."
  type        = string
}

variable "evidence_step_service_account" {
  description = "The evidence project's step functions' service account (the evidence module's step_service_account output)."
  type        = string
}

variable "allow_isolation" {
  description = "Grant the collector the permissions isolation needs (firewall rules, network tags, deletion protection)."
  type        = bool
  default     = false
}

variable "log_sink_bucket" {
  description = "An existing log sink bucket (name, no gs://) whose objects log preservation may read; null: none."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "amber"
}

resource "google_service_account" "collector" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-collector"
  display_name = "Amber collector (impersonated by the evidence project; no keys)"
}

# Reading an instance's metadata and snapshotting its disks, and granting the evidence steps read-only use of the
# snapshots it made (getIamPolicy/setIamPolicy on snapshots: the evidence copy needs compute.snapshots.useReadOnly on
# each source snapshot, granted per snapshot through snapshot_reader below, never on the whole project).
resource "google_project_iam_custom_role" "collector" {
  project = var.project_id
  role_id = "${replace(var.name_prefix, "-", "_")}_collector"
  title   = "Amber collector"
  permissions = [
    "compute.instances.get",
    "compute.instances.getSerialPortOutput",
    "compute.disks.get",
    "compute.disks.createSnapshot",
    "compute.firewalls.list",
    "compute.snapshots.create",
    "compute.snapshots.get",
    "compute.snapshots.setLabels",
    "compute.snapshots.getIamPolicy",
    "compute.snapshots.setIamPolicy",
    "compute.globalOperations.get",
  ]
}

# Read-only use of a snapshot (making an image of it in the evidence project). Bound to nobody here: the collector
# adds the evidence steps' service account to each snapshot's own IAM policy with it, one snapshot at a time. Its id
# is what the evidence module's SNAPSHOT_READER_ROLE names (same name_prefix in both modules).
resource "google_project_iam_custom_role" "snapshot_reader" {
  project     = var.project_id
  role_id     = "${replace(var.name_prefix, "-", "_")}_snapshot_reader"
  title       = "Amber snapshot reader (evidence copies)"
  permissions = ["compute.snapshots.useReadOnly"]
}

# Isolation changes the instance and the network, so it is a separate role granted only when asked for.
resource "google_project_iam_custom_role" "isolator" {
  count   = var.allow_isolation ? 1 : 0
  project = var.project_id
  role_id = "${replace(var.name_prefix, "-", "_")}_isolator"
  title   = "Amber isolator"
  permissions = [
    "compute.firewalls.create",
    "compute.networks.updatePolicy",
    "compute.instances.setTags",
    "compute.instances.setDeletionProtection",
    "compute.zoneOperations.get",
  ]
}

# Custom roles are granted at project level: Compute has no per-instance IAM for these permissions.
resource "google_project_iam_member" "collector" {
  project = var.project_id
  role    = google_project_iam_custom_role.collector.id
  member  = "serviceAccount:${google_service_account.collector.email}"
}

resource "google_project_iam_member" "isolator" {
  count   = var.allow_isolation ? 1 : 0
  project = var.project_id
  role    = google_project_iam_custom_role.isolator[0].id
  member  = "serviceAccount:${google_service_account.collector.email}"
}

# Reading Cloud Audit Logs through entries.list. Exception to custom roles: Data Access logs are private logs,
# readable only with logging.privateLogEntries.list, which roles/logging.privateLogViewer carries (with the
# logging.viewer read permissions for Admin Activity, System Event and Policy Denied); it writes nothing. Logs
# have no narrower resource than the project, so it is granted here, on this member project only.
resource "google_project_iam_member" "collector_logs" {
  project = var.project_id
  role    = "roles/logging.privateLogViewer"
  member  = "serviceAccount:${google_service_account.collector.email}"
}

# The project's inventory through Cloud Asset Inventory (assets.list of resources and IAM policies): the
# predefined read-only role, on this member project only; it reads no data (objects, secrets, logs) and changes
# nothing. The API is enabled here, in the project whose quota the collector's calls use.
resource "google_project_iam_member" "collector_assets" {
  project = var.project_id
  role    = "roles/cloudasset.viewer"
  member  = "serviceAccount:${google_service_account.collector.email}"
}

resource "google_project_service" "cloudasset" {
  project            = var.project_id
  service            = "cloudasset.googleapis.com"
  disable_on_destroy = false
}

# A named log sink: list and read its objects, on that one bucket only (nothing is written to it).
resource "google_storage_bucket_iam_member" "collector_sink" {
  count  = var.log_sink_bucket == null ? 0 : 1
  bucket = var.log_sink_bucket
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.collector.email}"
}

# Only the evidence project's step functions may mint tokens for the collector, on this one account.
resource "google_service_account_iam_member" "impersonation" {
  service_account_id = google_service_account.collector.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${var.evidence_step_service_account}"
}

output "collector_service_account" {
  description = "Give it to the evidence module (collector_service_accounts[<project>])."
  value       = google_service_account.collector.email
}
