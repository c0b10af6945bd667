# The evidence locker: write-once by Object Retention Lock. Amber creates every evidence object with a LOCKED
# retention (mode Locked, until retention_days from its preservation): nobody can delete or replace it before then,
# and the retention can only be extended. Uniform bucket-level access (no object ACLs), public access prevention
# enforced, versioning, CMEK.
#
# Why not a bucket retention policy (Bucket Lock): it forbids replacing ANY object younger than the policy, so the
# custody ledger could be written once and never appended (the GCS locker refuses such a bucket for writing). The
# ledger is protected instead by its hash chain and by the write-once, retention-locked checkpoints that anchor it,
# and versioning keeps each earlier generation of it.
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

  # Per-object retention: each evidence object carries its own locked retention, set by Amber as it is created.
  enable_object_retention = true

  encryption {
    default_kms_key_name = google_kms_crypto_key.evidence.id
  }

  depends_on = [google_kms_crypto_key_iam_member.gcs_uses_key]
}
