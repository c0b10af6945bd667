# The evidence locker: write-once by a LOCKED retention policy (no object can be deleted or replaced before its
# retention ends, and the policy itself can never be shortened), uniform bucket-level access (no object ACLs),
# public access prevention enforced, versioning, CMEK.
resource "google_storage_bucket" "evidence" {
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name_prefix}-evidence"
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  retention_policy {
    is_locked        = true
    retention_period = var.retention_days * 86400
  }

  encryption {
    default_kms_key_name = google_kms_crypto_key.evidence.id
  }

  depends_on = [google_kms_crypto_key_iam_member.gcs_uses_key]
}
